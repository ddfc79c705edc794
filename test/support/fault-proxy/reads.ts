import type { IncomingMessage } from "node:http";
import {
  type CapacityModel,
  type Charge,
  type IndexSchema,
  type Item,
  itemSize,
  type Json,
  KB,
  keyOf,
  PAGE_BYTES,
  queryPartition,
  readUnitsFor,
  type TableSchema,
} from "../capacity-model/index.ts";
import { throughputExceeded } from "./answers.ts";
import { mergeUnprocessed, pickAttributes, unproject } from "./reshape.ts";
import type { Upstream } from "./upstream.ts";

/**
 * Reads through the capacity model. A read is charged after its answer, by the size of the whole
 * items (table) or whole index entries (index) it read, whatever ProjectionExpression or Select
 * asked for: the proxy asks DynamoDB Local for whole items and gives back what the caller asked
 * for. Items a FilterExpression dropped are charged at the mean size of the returned ones (1 KB
 * when none was returned). While in flight a read reserves the most it can cost: a 1 MB page for
 * Query (256 RCU strong, 128 eventual), one 4 KB item for GetItem and for each BatchGetItem key
 * (1 / 0.5). Scan is counted, never throttled. Over the limit: a BatchGetItem admits its keys one
 * by one in request order and returns the others as UnprocessedKeys, and fails with
 * ProvisionedThroughputExceededException when none is admitted; a GetItem or Query fails with
 * HTTP 400 ProvisionedThroughputExceededException (ThrottlingReasons Table|Index + Read +
 * KeyRangeThroughputExceeded).
 */

interface ReadKey {
  key: Item;
  where: Omit<Charge, "units">;
  reserve: number;
}

interface ReadPart {
  table: string;
  schema: TableSchema;
  spec: Json;
  consistent: boolean;
  keys: ReadKey[];
  pick?: string[];
  countOnly: boolean;
  changed: boolean;
}

export interface ReadPlan {
  operation: string;
  table: string;
  schema?: TableSchema;
  index?: IndexSchema;
  /** The bucket of a GetItem / Query (undefined for Scan: counted, not throttled). */
  where?: Omit<Charge, "units">;
  reserve: number;
  consistent: boolean;
  /** The request to forward (whole items) and what to give back from it. */
  body: Json;
  pick?: string[];
  countOnly: boolean;
  changed: boolean;
  filtered: boolean;
  parts: ReadPart[];
}

/**
 * How a read is charged, and the request for whole items; undefined when not modelled (no model,
 * and no index lag to apply to a Query of an index).
 */
export async function planRead(
  upstream: Upstream,
  request: IncomingMessage,
  operation: string,
  body: Json,
  modelled: boolean,
  lagOn: boolean,
): Promise<ReadPlan | undefined> {
  if (!modelled && !(lagOn && operation === "Query" && body.IndexName)) return undefined;
  if (operation === "GetItem" || operation === "Query" || operation === "Scan") {
    const table = String(body.TableName);
    const schema = await upstream.schemaOf(request, table);
    if (!schema) return undefined;
    const index = body.IndexName ? schema.indexes.find((i) => i.name === body.IndexName) : undefined;
    const consistent = !index && body.ConsistentRead === true;
    const { spec, pick, countOnly, changed } = unproject(body);
    let where: Omit<Charge, "units"> | undefined;
    let reserve = 0;
    if (operation === "GetItem") {
      where = { table, partition: keyOf(schema, body.Key ?? {}).split("\u0000")[0]! };
      reserve = readUnitsFor(4 * KB, consistent);
    } else if (operation === "Query") {
      where = {
        table,
        ...(index ? { index: index.name } : {}),
        partition: queryPartition(body, index ? index.partitionKey : schema.partitionKey) ?? "",
      };
      reserve = readUnitsFor(PAGE_BYTES, consistent);
    }
    return {
      operation,
      table,
      schema,
      ...(index ? { index } : {}),
      ...(where ? { where } : {}),
      reserve,
      consistent,
      body: spec,
      ...(pick ? { pick } : {}),
      countOnly,
      changed,
      filtered: body.FilterExpression !== undefined || body.ScanFilter !== undefined || body.QueryFilter !== undefined,
      parts: [],
    };
  }
  if (operation === "BatchGetItem" && modelled) {
    const parts: ReadPart[] = [];
    const requestItems: Json = {};
    for (const [table, tableSpec] of Object.entries((body.RequestItems ?? {}) as Record<string, Json>)) {
      const schema = await upstream.schemaOf(request, table);
      if (!schema) return undefined;
      const consistent = tableSpec.ConsistentRead === true;
      const { spec, pick, countOnly, changed } = unproject(tableSpec);
      requestItems[table] = spec;
      parts.push({
        table,
        schema,
        spec,
        consistent,
        keys: ((tableSpec.Keys ?? []) as Item[]).map((key) => ({
          key,
          where: { table, partition: keyOf(schema, key).split("\u0000")[0]! },
          reserve: readUnitsFor(4 * KB, consistent),
        })),
        ...(pick ? { pick } : {}),
        countOnly,
        changed,
      });
    }
    return {
      operation,
      table: "",
      reserve: 0,
      consistent: false,
      body: { ...body, RequestItems: requestItems },
      countOnly: false,
      changed: parts.some((p) => p.changed),
      filtered: false,
      parts,
    };
  }
  return undefined;
}

export type ReadAdmission =
  /** The call is refused whole with this answer (HTTP 400). */
  | { refusal: Json }
  /** The keys to report unprocessed (BatchGetItem); the plan's body now asks for the admitted ones only. */
  | { refusal?: undefined; unprocessed: Json | undefined };

/** Admits a read (each key of a BatchGetItem) into the model's buckets, reserving its most. */
export function admitRead(
  model: CapacityModel,
  plan: ReadPlan,
  body: Json,
  unprocessed: Json | undefined,
): ReadAdmission {
  if (plan.operation !== "BatchGetItem") {
    if (plan.where && plan.reserve > 0 && !model.admitRead(plan.where, plan.reserve)) {
      model.noteThrottled();
      return { refusal: throughputExceeded(plan.where, "Read") };
    }
    return { unprocessed };
  }
  const refused: Record<string, Json> = {};
  let admittedKeys = 0;
  let refusedKeys = 0;
  for (const part of plan.parts) {
    part.keys = part.keys.filter((key) => {
      const ok = model.admitRead(key.where, key.reserve);
      if (ok) admittedKeys++;
      else {
        refusedKeys++;
        (refused[part.table] ??= { ...body.RequestItems[part.table], Keys: [] }).Keys.push(key.key);
      }
      return ok;
    });
  }
  if (refusedKeys > 0) {
    model.noteUnprocessedKeys(refusedKeys);
    if (admittedKeys === 0) {
      model.noteThrottled();
      return { refusal: throughputExceeded({ table: plan.parts[0]!.table, partition: "" }, "Read") };
    }
    unprocessed = mergeUnprocessed(unprocessed ?? {}, { UnprocessedKeys: refused });
  }
  const requestItems: Json = {};
  for (const part of plan.parts)
    if (part.keys.length > 0) requestItems[part.table] = { ...part.spec, Keys: part.keys.map((k) => k.key) };
  plan.body = { ...plan.body, RequestItems: requestItems };
  return { unprocessed };
}

/** Replaces a read's reservation with what it actually read (nothing when it failed). */
export function settleRead(model: CapacityModel | undefined, plan: ReadPlan, out: Json | undefined, ok: boolean): void {
  if (!model) return;
  if (plan.operation === "BatchGetItem") {
    for (const part of plan.parts) {
      const sizes = new Map(
        ((out?.Responses?.[part.table] ?? []) as Item[]).map((item) => [keyOf(part.schema, item), itemSize(item)]),
      );
      for (const key of part.keys)
        model.settleRead(
          key.where,
          key.reserve,
          ok ? readUnitsFor(sizes.get(keyOf(part.schema, key.key)) ?? 0, part.consistent) : 0,
        );
    }
    return;
  }
  let units = 0;
  if (ok && plan.operation === "GetItem") units = readUnitsFor(itemSize(out?.Item), plan.consistent);
  else if (ok) {
    const items = (out?.Items ?? []) as Item[];
    let bytes = items.reduce((sum, item) => sum + itemSize(item), 0);
    const dropped = Math.max(0, Number(out?.ScannedCount ?? items.length) - items.length);
    if (plan.filtered && dropped > 0) bytes += dropped * (items.length > 0 ? bytes / items.length : KB);
    units = readUnitsFor(bytes, plan.consistent);
  }
  if (plan.where) model.settleRead(plan.where, plan.reserve, units);
  else model.countRead({ table: plan.table, ...(plan.index ? { index: plan.index.name } : {}), partition: "*", units });
}

/** Gives back what the caller asked for from the whole items read. */
export function finishRead(plan: ReadPlan, out: Json): void {
  if (plan.operation === "BatchGetItem") {
    for (const part of plan.parts)
      if (part.changed && out.Responses?.[part.table])
        out.Responses[part.table] = (out.Responses[part.table] as Item[]).map((item) =>
          pickAttributes(item, part.pick),
        );
    return;
  }
  if (plan.operation === "GetItem") {
    if (out.Item) out.Item = pickAttributes(out.Item, plan.pick);
    return;
  }
  if (plan.countOnly) delete out.Items;
  else if (out.Items) out.Items = (out.Items as Item[]).map((item) => pickAttributes(item, plan.pick));
}
