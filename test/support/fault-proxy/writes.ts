import type { IncomingMessage } from "node:http";
import {
  bucketKey,
  type CapacityModel,
  type Charge,
  type Item,
  itemWriteCharges,
  type Json,
  keyOf,
  scalar,
  type TableSchema,
  updateEstimate,
} from "../capacity-model/index.ts";
import { throughputExceeded, transactionCanceled } from "./answers.ts";
import { groupBy, mergeUnprocessed } from "./reshape.ts";
import type { Upstream } from "./upstream.ts";

/**
 * Writes through the capacity model: each item a write touches, its image before (read from
 * DynamoDB Local first) and after, and the units it takes. A write is charged its estimate before it
 * is forwarded and settled to its actual cost once answered. Over the limit: a BatchWriteItem
 * admits its items one by one in request order and returns the others as UnprocessedItems, and
 * fails with ProvisionedThroughputExceededException when none is admitted; a TransactWriteItems
 * fails whole with TransactionCanceledException, CancellationReasons code ThrottlingError on the
 * actions whose buckets lacked units and None on the others, and consumes nothing; any other
 * write fails with HTTP 400 ProvisionedThroughputExceededException (ThrottlingReasons
 * Table|Index + Write + KeyRangeThroughputExceeded).
 */

/** One item a write call touches, as the capacity model and the index lag see it. */
export interface WriteTarget {
  table: string;
  schema: TableSchema;
  key: Item;
  kind: "put" | "update" | "delete" | "check";
  /** The item a put writes; the UpdateItem-like input of an update. */
  item?: Item;
  update?: Json;
  transactional: boolean;
  /** The request element it came from (BatchWriteItem), to split admitted from unprocessed. */
  source?: Json;
  before?: Item;
  estimate: Charge[];
  admitted: boolean;
}

type NamedTarget = Omit<WriteTarget, "schema" | "estimate" | "admitted">;

/** The items a write call names, before their tables are known. */
function namedTargets(operation: string, body: Json): NamedTarget[] {
  const named: NamedTarget[] = [];
  if (operation === "PutItem")
    named.push({ table: body.TableName, key: body.Item, kind: "put", item: body.Item, transactional: false });
  else if (operation === "UpdateItem")
    named.push({ table: body.TableName, key: body.Key, kind: "update", update: body, transactional: false });
  else if (operation === "DeleteItem")
    named.push({ table: body.TableName, key: body.Key, kind: "delete", transactional: false });
  else if (operation === "BatchWriteItem") {
    for (const [table, requests] of Object.entries((body.RequestItems ?? {}) as Record<string, Json[]>))
      for (const source of requests)
        named.push(
          source.PutRequest
            ? {
                table,
                key: source.PutRequest.Item,
                kind: "put",
                item: source.PutRequest.Item,
                transactional: false,
                source,
              }
            : { table, key: source.DeleteRequest?.Key ?? {}, kind: "delete", transactional: false, source },
        );
  } else if (operation === "TransactWriteItems") {
    for (const action of (body.TransactItems ?? []) as Json[]) {
      if (action.Put)
        named.push({
          table: action.Put.TableName,
          key: action.Put.Item,
          kind: "put",
          item: action.Put.Item,
          transactional: true,
        });
      else if (action.Update)
        named.push({
          table: action.Update.TableName,
          key: action.Update.Key,
          kind: "update",
          update: action.Update,
          transactional: true,
        });
      else if (action.Delete)
        named.push({ table: action.Delete.TableName, key: action.Delete.Key, kind: "delete", transactional: true });
      else if (action.ConditionCheck)
        named.push({
          table: action.ConditionCheck.TableName,
          key: action.ConditionCheck.Key,
          kind: "check",
          transactional: true,
        });
    }
  }
  return named;
}

const keyFrom = (schema: TableSchema, item: Item): Item => {
  const key: Item = { [schema.partitionKey]: item[schema.partitionKey]! };
  if (schema.sortKey) key[schema.sortKey] = item[schema.sortKey]!;
  return key;
};

/** The items a write call touches, without their before-images yet (undefined when a table is unknown: then it is not modelled). */
export async function writeTargets(
  upstream: Upstream,
  request: IncomingMessage,
  operation: string,
  body: Json,
): Promise<WriteTarget[] | undefined> {
  const named = namedTargets(operation, body);
  if (named.length === 0) return undefined;
  const targets: WriteTarget[] = [];
  for (const t of named) {
    const schema = await upstream.schemaOf(request, String(t.table));
    if (!schema) return undefined;
    targets.push({
      ...t,
      table: String(t.table),
      schema,
      key: keyFrom(schema, t.key ?? {}),
      estimate: [],
      admitted: true,
    });
  }
  return targets;
}

/** Reads each target's item as DynamoDB Local holds it and estimates the write's cost from it. */
export async function readBeforeImages(upstream: Upstream, request: IncomingMessage, targets: WriteTarget[]) {
  for (const [table, list] of groupBy(targets, (t) => t.table)) {
    const before = await upstream.readItems(
      request,
      table,
      list[0]!.schema,
      list.map((t) => t.key),
    );
    for (const t of list) t.before = before.get(keyOf(t.schema, t.key));
  }
  for (const t of targets)
    t.estimate = chargesOf(t, t.kind === "put" ? t.item : t.kind === "delete" ? undefined : t.before, true);
}

/**
 * The least a target can cost, known before its item is read: a put's table units of the item it
 * writes, one table unit for any other action (twice in a transaction), no index writes.
 */
function leastCharges(t: WriteTarget): Charge[] {
  if (t.kind === "put")
    return itemWriteCharges(t.table, t.schema, undefined, t.item, { transactional: t.transactional, tableOnly: true });
  const partition = scalar(t.key[t.schema.partitionKey]) ?? "";
  return [{ table: t.table, partition, units: t.transactional ? 2 : 1 }];
}

/**
 * The refusal of a call (other than BatchWriteItem, admitted item by item) whose bucket lacks even
 * the least it can cost: its full estimate would be refused too, so its items need not be read
 * first. A throttled call is then answered at once, as DynamoDB answers it, instead of after a read
 * of DynamoDB Local; the writers retrying against a busy partition are not slowed by the model.
 */
export function refusalBeforeReading(model: CapacityModel, operation: string, targets: WriteTarget[]) {
  if (operation === "BatchWriteItem") return undefined;
  const least = targets.map((t) => ({ ...t, estimate: leastCharges(t) }));
  const short = model.lacking(least.flatMap((t) => t.estimate));
  if (short.length === 0) return undefined;
  model.noteThrottled();
  return refusalFor(operation, least, short);
}

/** The charges of one target given its after-image; `estimate` uses the UpdateItem guess. */
function chargesOf(t: WriteTarget, after: Item | undefined, estimate = false): Charge[] {
  if (t.kind === "check")
    return itemWriteCharges(t.table, t.schema, t.before, t.before, { transactional: true, tableOnly: true });
  if (t.kind === "update" && estimate)
    return updateEstimate(t.table, t.schema, t.before, t.update ?? {}, { transactional: t.transactional });
  return itemWriteCharges(t.table, t.schema, t.before, after, { transactional: t.transactional });
}

export type WriteAdmission =
  /** The call is refused whole with this answer (HTTP 400). */
  | { refusal: Json }
  /** What to forward (the admitted items) and the items to report unprocessed. */
  | { refusal?: undefined; body: Json; unprocessed: Json | undefined };

/** Takes the estimates of a write call from the model's buckets, as DynamoDB admits writes. */
export function admitWrites(
  model: CapacityModel,
  operation: string,
  targets: WriteTarget[],
  body: Json,
  unprocessed: Json | undefined,
): WriteAdmission {
  if (operation === "BatchWriteItem") {
    const refused: WriteTarget[] = [];
    for (const t of targets) {
      t.admitted = model.takeWrites(t.estimate).length === 0;
      if (!t.admitted) refused.push(t);
    }
    if (refused.length === 0) return { body, unprocessed };
    model.noteUnprocessedItems(refused.length);
    if (refused.length === targets.length) {
      model.noteThrottled();
      return { refusal: throughputExceeded(refused[0]!.estimate[0]!, "Write") };
    }
    const group = (list: WriteTarget[]) => {
      const out: Record<string, Json[]> = {};
      for (const t of list) (out[t.table] ??= []).push(t.source!);
      return out;
    };
    return {
      body: { ...body, RequestItems: group(targets.filter((t) => t.admitted)) },
      unprocessed: mergeUnprocessed(unprocessed ?? {}, { UnprocessedItems: group(refused) }),
    };
  }
  const short = model.takeWrites(targets.flatMap((t) => t.estimate));
  if (short.length === 0) return { body, unprocessed };
  model.noteThrottled();
  return { refusal: refusalFor(operation, targets, short) };
}

/** A write refused for the charges `short` lacked: a transaction cancelled on the actions they belong to. */
function refusalFor(operation: string, targets: WriteTarget[], short: Charge[]): Json {
  if (operation !== "TransactWriteItems") return throughputExceeded(short[0]!, "Write");
  const lacking = new Set(short.map(bucketKey));
  return transactionCanceled(
    targets.map((t) =>
      t.estimate.some((c) => lacking.has(bucketKey(c)))
        ? { Code: "ThrottlingError", Message: "Throughput exceeds the current capacity of your table or index." }
        : { Code: "None" },
    ),
  );
}

/** Each admitted target's image after the write (updates read back from DynamoDB Local once answered). */
export async function afterImages(
  upstream: Upstream,
  request: IncomingMessage,
  admitted: WriteTarget[],
  succeeded: boolean,
): Promise<Map<WriteTarget, Item | undefined>> {
  const updates = succeeded ? admitted.filter((t) => t.kind === "update") : [];
  const updated = new Map<WriteTarget, Item | undefined>();
  for (const [table, list] of groupBy(updates, (t) => t.table)) {
    const items = await upstream.readItems(
      request,
      table,
      list[0]!.schema,
      list.map((t) => t.key),
    );
    for (const t of list) updated.set(t, items.get(keyOf(t.schema, t.key)));
  }
  const after = new Map<WriteTarget, Item | undefined>();
  for (const t of admitted)
    after.set(
      t,
      t.kind === "put" ? t.item : t.kind === "delete" ? undefined : t.kind === "update" ? updated.get(t) : t.before,
    );
  return after;
}

/**
 * Replaces each admitted target's estimate with what the write cost: its charges when it succeeded,
 * the table units of the item as it stands when a condition failed, nothing on any other error.
 */
export function settleWrites(
  model: CapacityModel,
  after: Map<WriteTarget, Item | undefined>,
  status: number,
  errorType: string,
): void {
  const conditional = /ConditionalCheckFailed|TransactionCanceled/.test(errorType);
  for (const [t, image] of after) {
    const actual =
      status < 300
        ? chargesOf(t, image)
        : conditional
          ? itemWriteCharges(t.table, t.schema, t.before, t.before, { transactional: t.transactional, tableOnly: true })
          : [];
    model.settleWrites(t.estimate, actual);
  }
}
