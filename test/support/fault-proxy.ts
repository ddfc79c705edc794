import { randomUUID } from "node:crypto";
import { Agent, createServer, request as forward, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { crc32 } from "node:zlib";
import { afterAll, afterEach, beforeAll, inject } from "vitest";
import { TABLE, TASK_ITEM_SK } from "../../lib/store/table.ts";
import {
  CapacityModel,
  type CapacityOptions,
  type Charge,
  type IndexSchema,
  type Item,
  indexEntry,
  itemSize,
  itemWriteCharges,
  KB,
  keyOf,
  PAGE_BYTES,
  queryPartition,
  readUnitsFor,
  schemaFromDescription,
  type TableSchema,
  updateEstimate,
} from "./capacity-model.ts";

/**
 * A fault-injecting loopback proxy in front of DynamoDB Local, speaking the DynamoDB JSON wire
 * protocol. It sits on the network path rather than in the SDK, so the SDK's own retry loop,
 * error classification and connection handling all run exactly as they would against AWS, and it
 * serves the store in a test and the Lambda handlers alike (they only know DYNAMODB_ENDPOINT).
 * Every call it lets through is answered by the real DynamoDB Local; nothing is mocked.
 *
 * It is the one fault tool: wire faults (policies: throttles, errors, cancelled transactions,
 * unprocessed batch items, dropped requests or answers, delays, held calls), process death
 * (kill), held calls (a "hold" fault), index lag, with `conflicts` DynamoDB's transaction
 * conflicts, and with `capacity` DynamoDB's per-partition limits (test/support/capacity-model.ts:
 * the rules are in its doc comment). The policy decides first; a call it lets through is then
 * checked for conflicts, then charged by the capacity model.
 *
 * Conflicts (DynamoDB Local never raises them): while a TransactWriteItems is in flight (from the
 * moment the proxy takes it on until DynamoDB Local has answered it) it holds the items its actions
 * name, Put, Update, Delete and ConditionCheck alike, by table and key. A call that touches a held
 * item is answered without being forwarded, as DynamoDB answers it:
 * - TransactWriteItems or TransactGetItems: TransactionCanceledException, CancellationReasons code
 *   TransactionConflict on each action naming a held item and None on the others;
 * - PutItem, UpdateItem, DeleteItem: TransactionConflictException.
 * The transaction that got there first goes on. Other reads, and BatchWriteItem, are never
 * refused, and a plain write in flight holds nothing. DynamoDB Local
 * answers in about a millisecond, so a transaction is held `holdMs` before it is forwarded (its
 * items held meanwhile), standing for the time a transaction takes in DynamoDB: overlaps then
 * really happen. A refused call is not charged by the capacity model.
 */

/** DynamoDB wire JSON, read loosely: the proxy only looks at a few well-known fields. */
type Json = Record<string, any>;

/** One call as the proxy sees it. */
export interface Call {
  /** 1-based position among all calls through this proxy. */
  seq: number;
  /** The DynamoDB operation, from the X-Amz-Target header (e.g. "BatchWriteItem"). */
  operation: string;
  /** 1-based position among calls of the same operation. */
  nth: number;
  /** The request as sent (DynamoDB JSON). */
  input: Json;
}

type ThrottleError = "ProvisionedThroughputExceededException" | "ThrottlingException";

/** What the proxy does with one call. */
export type Fault =
  /** Forward it untouched. */
  | { kind: "pass" }
  /** Answer DynamoDB's throttling error (HTTP 400) without forwarding. */
  | { kind: "throttle"; error?: ThrottleError }
  /** Answer any DynamoDB error without forwarding, e.g. 500 InternalServerError. */
  | { kind: "error"; status: number; type: string }
  /**
   * TransactWriteItems: answer TransactionCanceledException without forwarding, the first action
   * cancelled for `reason` (DynamoDB Local never reports a TransactionConflict by itself).
   */
  | { kind: "cancel"; reason: "TransactionConflict" | "ThrottlingError" | "ConditionalCheckFailed" }
  /** BatchWriteItem / BatchGetItem: forward only the first `keep` requests and report the rest unprocessed. */
  | { kind: "unprocessed"; keep: number }
  /** Close the connection before forwarding: nothing reached DynamoDB. */
  | { kind: "drop" }
  /** Forward, then close the connection instead of answering: DynamoDB did the work, the caller never hears. */
  | { kind: "dropAnswer"; thenDie?: boolean }
  /** Wait, then apply `then` (default pass). */
  | { kind: "delay"; ms: number; then?: Fault }
  /** Hold the call until `until` settles (a paused process, a stalled request), then apply `then`. */
  | { kind: "hold"; until: Promise<unknown>; then?: Fault };

export type Policy = (call: Call) => Fault | undefined;

/** One finished call, for assertions on what happened in which order. */
export interface LoggedCall {
  seq: number;
  operation: string;
  input: Json;
  /** "conflict": refused because an in-flight transaction held an item it touches (option `conflicts`). */
  fault: Fault["kind"] | "dead" | "conflict";
  /** Time the call arrived and the time it was answered (or dropped). */
  at: number;
  done: number;
  /** HTTP status DynamoDB (or the proxy) answered; undefined when the connection was dropped. */
  status: number | undefined;
}

const THROTTLE_TYPES: Record<ThrottleError, string> = {
  ProvisionedThroughputExceededException: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
  ThrottlingException: "com.amazon.coral.availability#ThrottlingException",
};

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"]);

/** True for the operations that change the table. */
export const isWrite = (operation: string) => WRITES.has(operation);

/** The sort keys of the items a call writes (Put, Update, Delete; not ConditionCheck), and its table. */
function writtenSortKeys(call: Pick<Call, "operation" | "input">): { table: string; sortKeys: string[] } {
  const { operation, input } = call;
  const id = (item: Json | undefined) => item?.[TABLE.sortKey]?.S as string | undefined;
  let table = String(input.TableName ?? "");
  let ids: (string | undefined)[] = [];
  if (operation === "BatchWriteItem") {
    const [name, requests] = Object.entries((input.RequestItems ?? {}) as Record<string, Json[]>)[0] ?? ["", []];
    table = name;
    ids = requests.map((r) => id(r.PutRequest?.Item ?? r.DeleteRequest?.Key));
  } else if (operation === "TransactWriteItems") {
    const actions = ((input.TransactItems ?? []) as Json[])
      .map((item) => item.Put ?? item.Update ?? item.Delete)
      .filter(Boolean) as Json[];
    table = String(actions[0]?.TableName ?? "");
    ids = actions.map((action) => id(action.Item ?? action.Key));
  } else if (operation === "PutItem") {
    ids = [id(input.Item)];
  } else if (operation === "UpdateItem" || operation === "DeleteItem") {
    ids = [id(input.Key)];
  }
  return { table, sortKeys: ids.filter((sk): sk is string => sk !== undefined) };
}

/**
 * The images (by img_id) a call writes, every reserved item (sort key starting with '#': the task
 * item, snapshot chunks, run items) left out: the rows of a BatchWriteItem or TransactWriteItems,
 * or the key of a PutItem / UpdateItem / DeleteItem. Lets a test speak of "image writes" however
 * the store groups them.
 */
export function imageWrites(call: Pick<Call, "operation" | "input">): { table: string; imgIds: string[] } {
  const { table, sortKeys } = writtenSortKeys(call);
  return { table, imgIds: sortKeys.filter((sk) => !sk.startsWith("#")) };
}

/** How many snapshot chunk items (sort key `#split#…`) a call writes. */
export const chunkWrites = (call: Pick<Call, "operation" | "input">): number =>
  writtenSortKeys(call).sortKeys.filter((sk) => sk.startsWith("#split#")).length;

const publishes = (update: Json | undefined): boolean => {
  if (update?.Key?.[TABLE.sortKey]?.S !== TASK_ITEM_SK) return false;
  const aliases = (update.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const expression = String(update.UpdateExpression ?? "").replace(/#\w+/g, (alias) => aliases[alias] ?? alias);
  return /\bSET\s+live\s*=/.test(expression);
};

/**
 * True for a split's publish: an UpdateItem of the task item whose UpdateExpression starts with
 * `SET live =` (aliases resolved), or a TransactWriteItems holding such an update.
 */
export const isPublish = (call: Pick<Call, "operation" | "input">): boolean =>
  (call.operation === "UpdateItem" && publishes(call.input)) ||
  (call.operation === "TransactWriteItems" &&
    ((call.input.TransactItems ?? []) as Json[]).some((action) => publishes(action.Update)));

/** A promise with its resolver, for holding calls until a test says so. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A small seeded PRNG (mulberry32), so a run's fault pattern can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Policies and helpers

/** "BatchWriteItemCommand" or "BatchWriteItem": the operation name the proxy sees. */
const operationName = (operation: string) => operation.replace(/Command$/, "");

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface ConflictOptions {
  /**
   * How long a TransactWriteItems waits, holding its items, before it is forwarded (default
   * DEFAULT_CONFLICT_HOLD_MS): the time a transaction takes in DynamoDB, during which calls on its
   * items conflict.
   */
  holdMs?: number;
}

/** A transaction's hold when `conflicts: true`: a few times what DynamoDB Local takes to answer one. */
export const DEFAULT_CONFLICT_HOLD_MS = 20;

export interface FaultProxyOptions {
  /** Apply DynamoDB's per-partition limits (test/support/capacity-model.ts); true = the documented defaults. */
  capacity?: boolean | CapacityOptions;
  /** Raise transaction conflicts as DynamoDB does (see the doc comment at the top); true = the default hold. */
  conflicts?: boolean | ConflictOptions;
}

export interface FaultProxy {
  /** Where to point a DynamoDB client (or DYNAMODB_ENDPOINT). */
  endpoint: string;
  /**
   * Decides each call's fate; undefined (or returning undefined) lets everything through. Applied
   * before the capacity model: a call the policy throttles, fails or drops is not charged.
   */
  policy: Policy | undefined;
  /**
   * Simulated index lag (0 = DynamoDB Local's instant indexes): an index entry that a write through
   * this proxy creates or moves (an item's index key, e.g. order_block, set to a new value) shows up
   * in Queries of that index only this many ms after the write was answered; entries the write left
   * alone stay visible. Set it before the writes it should affect.
   */
  indexLagMs: number;
  /**
   * With `conflicts`: a TransactWriteItems for which this returns a promise stays in flight, its
   * items held, until the promise settles (after holdMs), so a test can overlap calls with it
   * exactly. Called just before the transaction is forwarded, its items held.
   */
  holdTransaction: ((call: Call) => Promise<unknown> | undefined) | undefined;
  /** The capacity model when started with `capacity`: consumed(), reset(). */
  readonly capacity: CapacityModel | undefined;
  /** Every call so far, in arrival order. */
  readonly log: LoggedCall[];
  /** How many calls of `operation` arrived ("BatchWriteItem" or "BatchWriteItemCommand"). */
  calls(operation: string): number;
  /** How many calls of `operation` DynamoDB answered with 2xx. */
  completed(operation: string): number;
  /** How many image rows were written by calls DynamoDB answered with 2xx (see imageWrites). */
  readonly imagesWritten: number;
  /** Calls refused with a transaction conflict (option `conflicts`), since the start. */
  readonly conflictsInjected: number;
  /** The process behind this proxy died: from now on every call is dropped, and so is every answer still in flight. */
  kill(): void;
  readonly dead: boolean;
  /**
   * What the calls a dead process still makes get (default "drop": the connection closes, and the
   * doomed code retries them until its deadline). "refuse" answers them with a 400 that no caller
   * retries, so the doomed code ends at once and a test need not give it a deadline sized to reach
   * its boundary. The call being sent when the process died and the answers in flight are dropped
   * either way, and nothing reaches DynamoDB after the death.
   */
  afterDeath: "drop" | "refuse";
  /**
   * A new process on the same path: alive again, no policy, no index lag, no holdTransaction,
   * afterDeath "drop" (the log, counters and capacity are kept).
   */
  reset(): void;
  close(): Promise<void>;
}

/**
 * One proxy for a vitest file, in front of the suite's DynamoDB Local: started in beforeAll, its
 * policy, index lag and capacity (counters and buckets) reset after each test, closed in afterAll.
 * Call at the top of a file or describe block; the accessor works inside tests and hooks.
 */
export function useFaultProxy(options: FaultProxyOptions = {}): () => FaultProxy {
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    proxy = await startFaultProxy(inject("dynamoEndpoint"), options);
  });
  afterEach(() => {
    proxy?.reset();
    proxy?.capacity?.reset();
  });
  afterAll(async () => {
    await proxy?.close();
  });
  return () => {
    if (!proxy) throw new Error("useFaultProxy: the proxy starts in beforeAll");
    return proxy;
  };
}

/** One item a write call touches, as the capacity model and the index lag see it. */
interface WriteTarget {
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

const arn = (table: string, index?: string) =>
  `arn:aws:dynamodb:local:000000000000:table/${table}${index ? `/index/${index}` : ""}`;

/** Removes what makes DynamoDB return less than whole items (top-level ProjectionExpression, Select), for sizing. */
function unproject(spec: Json): { spec: Json; pick?: string[]; countOnly: boolean; changed: boolean } {
  const projection = spec.ProjectionExpression as string | undefined;
  const countOnly = spec.Select === "COUNT";
  const nested = projection !== undefined && /[.[]/.test(projection);
  if (nested || spec.AttributesToGet !== undefined || (projection === undefined && !countOnly))
    return { spec, countOnly: false, changed: false };
  const { ProjectionExpression: _p, Select: select, ExpressionAttributeNames: aliases, ...rest } = spec;
  const out: Json = { ...rest };
  if (select !== undefined && select !== "COUNT" && select !== "SPECIFIC_ATTRIBUTES") out.Select = select;
  const used = new Set(
    ["KeyConditionExpression", "FilterExpression", "ConditionExpression"].flatMap(
      (field) => String(spec[field] ?? "").match(/#\w+/g) ?? [],
    ),
  );
  const kept = Object.entries((aliases ?? {}) as Record<string, string>).filter(([alias]) => used.has(alias));
  if (kept.length > 0) out.ExpressionAttributeNames = Object.fromEntries(kept);
  const pick = projection
    ?.split(",")
    .map((token) => token.trim())
    .map((token) => (token.startsWith("#") ? (aliases?.[token] ?? token) : token));
  return { spec: out, ...(pick ? { pick } : {}), countOnly, changed: true };
}

const pickAttributes = (item: Item, names: string[] | undefined): Item =>
  names
    ? Object.fromEntries(names.filter((name) => item[name] !== undefined).map((name) => [name, item[name]!]))
    : item;

/** Starts a proxy on a free loopback port in front of `target` (DynamoDB Local's endpoint). */
export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const log: LoggedCall[] = [];
  const perOperation = new Map<string, number>();
  const completed = new Map<string, number>();
  /** When an index entry (table, index, item key, entry key) was created or moved through the proxy, for the index lag. */
  const enteredAt = new Map<string, number>();
  const schemas = new Map<string, Promise<TableSchema | undefined>>();
  const model = options.capacity ? new CapacityModel(options.capacity === true ? {} : options.capacity) : undefined;
  const sockets = new Set<Socket>();
  let seq = 0;
  let dead = false;
  let imagesWritten = 0;
  const conflictsOn = options.conflicts !== undefined && options.conflicts !== false;
  const holdMs =
    typeof options.conflicts === "object"
      ? (options.conflicts.holdMs ?? DEFAULT_CONFLICT_HOLD_MS)
      : DEFAULT_CONFLICT_HOLD_MS;
  /** Items held by in-flight transactions (table and key), with how many hold each. */
  const held = new Map<string, number>();
  let conflictsInjected = 0;

  const lagKey = (table: string, index: string, item: string, entry: string) =>
    `${table}\u0000${index}\u0000${item}\u0000${entry}`;

  const send = (response: ServerResponse, status: number, body: Json) => {
    const text = Buffer.from(JSON.stringify(body));
    response.writeHead(status, {
      "content-type": "application/x-amz-json-1.0",
      "content-length": text.length,
      "x-amzn-requestid": randomUUID(),
      // The SDK may verify this checksum: always send the one of the body actually sent.
      "x-amz-crc32": String(crc32(text)),
    });
    response.end(text);
  };

  const drop = (request: IncomingMessage) => request.socket.destroy();

  /** Sends the request on to DynamoDB Local and returns its answer. */
  const upstreamCall = (request: IncomingMessage, body: Buffer, operation?: string) =>
    new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
      const headers = { ...request.headers, host: upstream.host, "content-length": String(body.length) };
      // DynamoDB Local does not check signatures, so the proxy may reshape a request or make its own.
      if (operation) Object.assign(headers, { "x-amz-target": `DynamoDB_20120810.${operation}` });
      const outgoing = forward(
        { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers, agent },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (part: Buffer) => parts.push(part));
          answer.on("end", () =>
            resolve({ status: answer.statusCode ?? 500, headers: answer.headers, body: Buffer.concat(parts) }),
          );
          answer.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  const ownCall = async (request: IncomingMessage, operation: string, input: Json): Promise<Json> => {
    const answer = await upstreamCall(request, Buffer.from(JSON.stringify(input)), operation);
    return JSON.parse(answer.body.toString("utf8") || "{}") as Json;
  };

  /** A table's key schema and indexes, from DynamoDB Local (cached; undefined when it has no such table). */
  const schemaOf = (request: IncomingMessage, table: string): Promise<TableSchema | undefined> => {
    let schema = schemas.get(table);
    if (!schema) {
      schema = ownCall(request, "DescribeTable", { TableName: table }).then((out) =>
        out.Table ? schemaFromDescription(out.Table) : undefined,
      );
      schemas.set(table, schema);
      schema.then(
        (found) => found ?? schemas.delete(table),
        () => schemas.delete(table),
      );
    }
    return schema;
  };

  /** Items as DynamoDB holds them now (strongly consistent), by table key. */
  const readItems = async (request: IncomingMessage, table: string, schema: TableSchema, keys: Item[]) => {
    const items = new Map<string, Item>();
    const unique = [...new Map(keys.map((key) => [keyOf(schema, key), key])).values()];
    for (let start = 0; start < unique.length; start += 100) {
      let pending: Json | undefined = {
        [table]: { Keys: unique.slice(start, start + 100), ConsistentRead: true },
      };
      while (pending && Object.keys(pending).length > 0) {
        const out = await ownCall(request, "BatchGetItem", { RequestItems: pending });
        if (out.__type) throw new Error(`proxy read: ${out.__type}`);
        for (const item of (out.Responses?.[table] ?? []) as Item[]) items.set(keyOf(schema, item), item);
        pending = out.UnprocessedKeys;
      }
    }
    return items;
  };

  const keyFrom = (schema: TableSchema, item: Item): Item => {
    const key: Item = { [schema.partitionKey]: item[schema.partitionKey]! };
    if (schema.sortKey) key[schema.sortKey] = item[schema.sortKey]!;
    return key;
  };

  /** The items a write call touches (undefined when a table is unknown: then it is not modelled). */
  const writeTargets = async (request: IncomingMessage, operation: string, body: Json) => {
    const raw: Omit<WriteTarget, "schema" | "estimate" | "admitted">[] = [];
    if (operation === "PutItem")
      raw.push({ table: body.TableName, key: body.Item, kind: "put", item: body.Item, transactional: false });
    else if (operation === "UpdateItem")
      raw.push({ table: body.TableName, key: body.Key, kind: "update", update: body, transactional: false });
    else if (operation === "DeleteItem")
      raw.push({ table: body.TableName, key: body.Key, kind: "delete", transactional: false });
    else if (operation === "BatchWriteItem") {
      for (const [table, requests] of Object.entries((body.RequestItems ?? {}) as Record<string, Json[]>))
        for (const source of requests)
          raw.push(
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
          raw.push({
            table: action.Put.TableName,
            key: action.Put.Item,
            kind: "put",
            item: action.Put.Item,
            transactional: true,
          });
        else if (action.Update)
          raw.push({
            table: action.Update.TableName,
            key: action.Update.Key,
            kind: "update",
            update: action.Update,
            transactional: true,
          });
        else if (action.Delete)
          raw.push({ table: action.Delete.TableName, key: action.Delete.Key, kind: "delete", transactional: true });
        else if (action.ConditionCheck)
          raw.push({
            table: action.ConditionCheck.TableName,
            key: action.ConditionCheck.Key,
            kind: "check",
            transactional: true,
          });
      }
    }
    if (raw.length === 0) return undefined;
    const targets: WriteTarget[] = [];
    for (const t of raw) {
      const schema = await schemaOf(request, String(t.table));
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
    const byTable = groupBy(targets, (t) => t.table);
    for (const [table, list] of byTable) {
      const before = await readItems(
        request,
        table,
        list[0]!.schema,
        list.map((t) => t.key),
      );
      for (const t of list) t.before = before.get(keyOf(t.schema, t.key));
    }
    for (const t of targets)
      t.estimate = charges(t, t.kind === "put" ? t.item : t.kind === "delete" ? undefined : t.before, true);
    return targets;
  };

  /** The charges of one target given its after-image; `estimate` uses the UpdateItem guess. */
  const charges = (t: WriteTarget, after: Item | undefined, estimate = false): Charge[] => {
    if (t.kind === "check")
      return itemWriteCharges(t.table, t.schema, t.before, t.before, { transactional: true, tableOnly: true });
    if (t.kind === "update" && estimate)
      return updateEstimate(t.table, t.schema, t.before, t.update ?? {}, { transactional: t.transactional });
    return itemWriteCharges(t.table, t.schema, t.before, after, { transactional: t.transactional });
  };

  /** The items (table and key, as text) each action of a call names; undefined for calls that cannot conflict. */
  const touchedItems = async (request: IncomingMessage, operation: string, input: Json) => {
    let named: { table: string; key: Item | undefined }[];
    if (operation === "TransactWriteItems")
      named = ((input.TransactItems ?? []) as Json[]).map((action) => {
        const a = action.Put ?? action.Update ?? action.Delete ?? action.ConditionCheck ?? {};
        return { table: String(a.TableName ?? ""), key: (a.Item ?? a.Key) as Item | undefined };
      });
    else if (operation === "TransactGetItems")
      named = ((input.TransactItems ?? []) as Json[]).map((action) => ({
        table: String(action.Get?.TableName ?? ""),
        key: action.Get?.Key as Item | undefined,
      }));
    else if (operation === "PutItem") named = [{ table: String(input.TableName ?? ""), key: input.Item }];
    else if (operation === "UpdateItem" || operation === "DeleteItem")
      named = [{ table: String(input.TableName ?? ""), key: input.Key }];
    else return undefined;
    const items: (string | undefined)[] = [];
    for (const { table, key } of named) {
      const schema = key ? await schemaOf(request, table) : undefined;
      items.push(schema && key ? `${table}\u0000${keyOf(schema, key)}` : undefined);
    }
    return items;
  };

  /**
   * A call's conflict with the in-flight transactions: the answer refusing it, or (for a
   * TransactWriteItems let through) its items now held until `release`.
   */
  const checkConflicts = async (request: IncomingMessage, operation: string, input: Json) => {
    const items = await touchedItems(request, operation, input);
    if (!items) return undefined;
    // No await from here on: checking and holding are one step.
    const clashes = items.map((item) => item !== undefined && (held.get(item) ?? 0) > 0);
    if (clashes.some(Boolean)) {
      const refusal: Json = operation.startsWith("Transact")
        ? transactionCanceled(
            clashes.map((clash) =>
              clash
                ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" }
                : { Code: "None" },
            ),
          )
        : {
            __type: "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
            message: "Transaction is ongoing for the item",
          };
      return { refusal, holding: false, release: () => {} };
    }
    if (operation !== "TransactWriteItems") return undefined;
    const mine = [...new Set(items.filter((item): item is string => item !== undefined))];
    for (const item of mine) held.set(item, (held.get(item) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const item of mine) {
        const left = (held.get(item) ?? 1) - 1;
        if (left > 0) held.set(item, left);
        else held.delete(item);
      }
    };
    return { refusal: undefined, holding: true, release };
  };

  const throughputExceeded = (response: ServerResponse, where: Omit<Charge, "units">, kind: "Read" | "Write") => {
    model?.noteThrottled();
    send(response, 400, {
      __type: THROTTLE_TYPES.ProvisionedThroughputExceededException,
      message:
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
      ThrottlingReasons: [
        {
          reason: `${where.index ? "Index" : "Table"}${kind}KeyRangeThroughputExceeded`,
          resource: arn(where.table, where.index),
        },
      ],
    });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const parts: Buffer[] = [];
    for await (const part of request as AsyncIterable<Buffer>) parts.push(part);
    const raw = Buffer.concat(parts);
    const operation =
      String(request.headers["x-amz-target"] ?? "")
        .split(".")
        .pop() ?? "";
    const input = JSON.parse(raw.toString("utf8") || "{}") as Json;
    const nth = (perOperation.get(operation) ?? 0) + 1;
    perOperation.set(operation, nth);
    const call: Call = { seq: ++seq, operation, nth, input };
    const entry: LoggedCall = {
      seq: call.seq,
      operation,
      input,
      fault: "pass",
      at: Date.now(),
      done: 0,
      status: undefined,
    };
    log.push(entry);
    const finish = (status: number | undefined) => {
      entry.done = Date.now();
      entry.status = status;
    };
    if (["CreateTable", "DeleteTable", "UpdateTable"].includes(operation)) schemas.delete(String(input.TableName));

    if (dead && proxy.afterDeath === "refuse") {
      entry.fault = "dead";
      finish(400);
      return send(response, 400, {
        __type: "com.amazon.coral.validate#ValidationException",
        message: "the process that made this call is dead",
      });
    }
    let fault: Fault = (dead ? undefined : proxy.policy?.(call)) ?? { kind: "pass" };
    entry.fault = fault.kind;
    for (;;) {
      if (fault.kind === "delay") {
        await sleep(fault.ms);
        fault = fault.then ?? { kind: "pass" };
      } else if (fault.kind === "hold") {
        await fault.until.catch(() => undefined);
        fault = fault.then ?? { kind: "pass" };
      } else break;
    }
    if (dead) {
      entry.fault = "dead";
      finish(undefined);
      return drop(request);
    }

    switch (fault.kind) {
      case "throttle": {
        const error = fault.error ?? "ProvisionedThroughputExceededException";
        finish(400);
        return send(response, 400, {
          __type: THROTTLE_TYPES[error],
          message: "Rate of requests exceeds the allowed throughput.",
        });
      }
      case "error":
        finish(fault.status);
        return send(response, fault.status, {
          __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`,
          message: "injected",
        });
      case "cancel": {
        const actions = ((input.TransactItems ?? []) as Json[]).length;
        const reasons = Array.from({ length: Math.max(1, actions) }, (_, i) =>
          i === 0 ? { Code: fault.reason, Message: "injected" } : { Code: "None" },
        );
        finish(400);
        return send(response, 400, transactionCanceled(reasons));
      }
      case "drop":
        finish(undefined);
        return drop(request);
      default:
    }

    // Conflicts: a call touching an item that an in-flight transaction holds is refused; a
    // transaction that goes through holds its items until DynamoDB has answered it.
    const conflict = conflictsOn ? await checkConflicts(request, operation, input) : undefined;
    if (conflict?.refusal) {
      conflictsInjected++;
      entry.fault = "conflict";
      finish(400);
      return send(response, 400, conflict.refusal);
    }
    try {
      return await forwardCall(request, response, call, raw, entry, finish, fault, conflict);
    } finally {
      conflict?.release();
    }
  };

  /** Sends a call the policy let through on to DynamoDB Local, applying the capacity model and the index lag. */
  const forwardCall = async (
    request: IncomingMessage,
    response: ServerResponse,
    call: Call,
    raw: Buffer,
    entry: LoggedCall,
    finish: (status: number | undefined) => void,
    fault: Fault,
    conflict: { holding: boolean; release: () => void } | undefined,
  ) => {
    const { operation, input } = call;
    // Forwarded from here on, possibly reshaped.
    let body: Json = input;
    let unprocessed: Json | undefined;
    if (fault.kind === "unprocessed" && operation === "BatchWriteItem") {
      const [kept, rest] = splitRequests(input.RequestItems as Record<string, Json[]>, fault.keep, (r) => r);
      unprocessed = { UnprocessedItems: rest };
      body = { ...input, RequestItems: kept };
    } else if (fault.kind === "unprocessed" && operation === "BatchGetItem") {
      const tables = input.RequestItems as Record<string, Json>;
      const keys = Object.fromEntries(Object.entries(tables).map(([table, spec]) => [table, spec.Keys as Json[]]));
      const [kept, rest] = splitRequests(keys, fault.keep, (k) => k);
      const wrap = (part: Record<string, Json[]>) =>
        Object.fromEntries(Object.entries(part).map(([table, list]) => [table, { ...tables[table], Keys: list }]));
      unprocessed = { UnprocessedKeys: wrap(rest) };
      body = { ...input, RequestItems: wrap(kept) };
    }
    const nothingLeft = body.RequestItems !== undefined && Object.keys(body.RequestItems as Json).length === 0;
    const lagOn = proxy.indexLagMs > 0;

    // Writes: the items they touch, their before-images, and the capacity they need.
    const targets =
      (model || lagOn) && isWrite(operation) && !nothingLeft ? await writeTargets(request, operation, body) : undefined;
    if (model && targets) {
      if (operation === "BatchWriteItem") {
        const refused: WriteTarget[] = [];
        for (const t of targets) {
          t.admitted = model.takeWrites(t.estimate).length === 0;
          if (!t.admitted) refused.push(t);
        }
        if (refused.length > 0) {
          model.noteUnprocessedItems(refused.length);
          if (refused.length === targets.length) {
            finish(400);
            return throughputExceeded(response, refused[0]!.estimate[0]!, "Write");
          }
          const admitted = targets.filter((t) => t.admitted);
          const group = (list: WriteTarget[]) => {
            const out: Record<string, Json[]> = {};
            for (const t of list) (out[t.table] ??= []).push(t.source!);
            return out;
          };
          body = { ...body, RequestItems: group(admitted) };
          unprocessed = mergeUnprocessed(unprocessed ?? {}, { UnprocessedItems: group(refused) });
        }
      } else {
        const short = model.takeWrites(targets.flatMap((t) => t.estimate));
        if (short.length > 0) {
          finish(400);
          if (operation !== "TransactWriteItems") return throughputExceeded(response, short[0]!, "Write");
          model.noteThrottled();
          const lacking = new Set(short.map((c) => `${c.table}\u0000${c.index ?? ""}\u0000${c.partition}`));
          const reasons = targets.map((t) =>
            t.estimate.some((c) => lacking.has(`${c.table}\u0000${c.index ?? ""}\u0000${c.partition}`))
              ? {
                  Code: "ThrottlingError",
                  Message: "Throughput exceeds the current capacity of your table or index.",
                }
              : { Code: "None" },
          );
          return send(response, 400, transactionCanceled(reasons));
        }
      }
    }

    // Reads: admission, reservation, and a request for whole items (their size is what is charged).
    const readPlan = !nothingLeft ? await planRead(request, operation, body) : undefined;
    if (model && readPlan) {
      if (operation === "BatchGetItem") {
        const refused: Record<string, Json> = {};
        let admittedKeys = 0;
        let refusedKeys = 0;
        for (const part of readPlan.parts) {
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
            finish(400);
            return throughputExceeded(response, { table: readPlan.parts[0]!.table, partition: "" }, "Read");
          }
          unprocessed = mergeUnprocessed(unprocessed ?? {}, { UnprocessedKeys: refused });
        }
        const requestItems: Json = {};
        for (const part of readPlan.parts)
          if (part.keys.length > 0) requestItems[part.table] = { ...part.spec, Keys: part.keys.map((k) => k.key) };
        readPlan.body = { ...readPlan.body, RequestItems: requestItems };
      } else if (readPlan.where && readPlan.reserve > 0 && !model.admitRead(readPlan.where, readPlan.reserve)) {
        finish(400);
        return throughputExceeded(response, readPlan.where, "Read");
      }
    }
    if (readPlan?.changed || (readPlan && operation === "BatchGetItem")) body = readPlan.body;

    let output: Json | undefined;
    let status = 200;
    let answer: Awaited<ReturnType<typeof upstreamCall>> | undefined;
    if (nothingLeft) {
      output = operation === "BatchGetItem" ? { Responses: {} } : {};
    } else {
      if (conflict?.holding) {
        if (holdMs > 0) await sleep(holdMs);
        await proxy.holdTransaction?.(call)?.catch(() => undefined);
      }
      answer = await upstreamCall(request, body === input ? raw : Buffer.from(JSON.stringify(body)));
      conflict?.release();
      status = answer.status;
    }
    const now = Date.now();
    const written = imageWrites({ operation, input: body });
    if (status < 300) {
      completed.set(operation, (completed.get(operation) ?? 0) + 1);
      imagesWritten += written.imgIds.length;
    }
    const parsed = (): Json => (output ??= JSON.parse(answer?.body.toString("utf8") || "{}") as Json);

    if (targets) {
      const admitted = targets.filter((t) => t.admitted);
      const errorType = status < 300 ? "" : String(parsed().__type ?? "");
      const conditional = /ConditionalCheckFailed|TransactionCanceled/.test(errorType);
      const updated =
        status < 300 && admitted.some((t) => t.kind === "update")
          ? await afterImages(
              request,
              admitted.filter((t) => t.kind === "update"),
            )
          : new Map<WriteTarget, Item | undefined>();
      for (const t of admitted) {
        const after =
          t.kind === "put" ? t.item : t.kind === "delete" ? undefined : t.kind === "update" ? updated.get(t) : t.before;
        if (model) {
          const actual =
            status < 300
              ? charges(t, after)
              : conditional
                ? itemWriteCharges(t.table, t.schema, t.before, t.before, {
                    transactional: t.transactional,
                    tableOnly: true,
                  })
                : [];
          model.settleWrites(t.estimate, actual);
        }
        if (lagOn && status < 300 && t.kind !== "check")
          for (const index of t.schema.indexes) {
            const old = indexEntry(t.schema, index, t.before);
            const fresh = indexEntry(t.schema, index, after);
            if (fresh && old?.key !== fresh.key)
              enteredAt.set(lagKey(t.table, index.name, keyOf(t.schema, t.key), fresh.key), now);
          }
      }
    }

    let reshaped = body !== input;
    if (readPlan) {
      const out = status < 300 ? parsed() : undefined;
      settleRead(readPlan, out, status < 300);
      if (out && readPlan.changed) reshaped = true;
      if (out && operation === "Query" && readPlan.index && lagOn) {
        const index = readPlan.index;
        const visible = ((out.Items ?? []) as Item[]).filter((item) => {
          const fresh = indexEntry(readPlan.schema!, index, item);
          const at = fresh
            ? enteredAt.get(lagKey(readPlan.table, index.name, keyOf(readPlan.schema!, item), fresh.key))
            : undefined;
          return at === undefined || now - at >= proxy.indexLagMs;
        });
        out.Items = visible;
        out.Count = visible.length;
        reshaped = true;
      }
      if (out && readPlan.changed) finishRead(readPlan, out);
    }

    if (dead || fault.kind === "dropAnswer") {
      if (fault.kind === "dropAnswer" && fault.thenDie) dead = true;
      entry.fault = dead && fault.kind !== "dropAnswer" ? "dead" : fault.kind;
      finish(undefined);
      return drop(request);
    }
    if (answer && !unprocessed && !reshaped) {
      finish(answer.status);
      response.writeHead(answer.status, answer.headers);
      return response.end(answer.body);
    }
    let result = parsed();
    if (status < 300 && unprocessed) result = mergeUnprocessed(result, unprocessed);
    finish(status);
    return send(response, status, result);
  };

  /** After-images of updated items, read from DynamoDB once the write was answered. */
  const afterImages = async (request: IncomingMessage, updates: WriteTarget[]) => {
    const images = new Map<WriteTarget, Item | undefined>();
    for (const [table, list] of groupBy(updates, (t) => t.table)) {
      const items = await readItems(
        request,
        table,
        list[0]!.schema,
        list.map((t) => t.key),
      );
      for (const t of list) images.set(t, items.get(keyOf(t.schema, t.key)));
    }
    return images;
  };

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
  interface ReadPlan {
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

  /** How a read is charged, and the request for whole items; undefined when not modelled. */
  const planRead = async (request: IncomingMessage, operation: string, body: Json): Promise<ReadPlan | undefined> => {
    const lagOn = proxy.indexLagMs > 0;
    if (!model && !(lagOn && operation === "Query" && body.IndexName)) return undefined;
    if (operation === "GetItem" || operation === "Query" || operation === "Scan") {
      const table = String(body.TableName);
      const schema = await schemaOf(request, table);
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
        filtered:
          body.FilterExpression !== undefined || body.ScanFilter !== undefined || body.QueryFilter !== undefined,
        parts: [],
      };
    }
    if (operation === "BatchGetItem" && model) {
      const parts: ReadPart[] = [];
      const requestItems: Json = {};
      for (const [table, tableSpec] of Object.entries((body.RequestItems ?? {}) as Record<string, Json>)) {
        const schema = await schemaOf(request, table);
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
  };

  /** Replaces a read's reservation with what it actually read (nothing when it failed). */
  const settleRead = (plan: ReadPlan, out: Json | undefined, ok: boolean) => {
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
    else
      model.countRead({ table: plan.table, ...(plan.index ? { index: plan.index.name } : {}), partition: "*", units });
  };

  /** Gives back what the caller asked for from the whole items read. */
  const finishRead = (plan: ReadPlan, out: Json) => {
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
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent)
        send(response, 500, { __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: "proxy" });
      else request.socket.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));

  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    policy: undefined,
    holdTransaction: undefined,
    afterDeath: "drop",
    indexLagMs: 0,
    capacity: model,
    log,
    calls: (operation) => perOperation.get(operationName(operation)) ?? 0,
    completed: (operation) => completed.get(operationName(operation)) ?? 0,
    get imagesWritten() {
      return imagesWritten;
    },
    get conflictsInjected() {
      return conflictsInjected;
    },
    kill: () => {
      dead = true;
    },
    get dead() {
      return dead;
    },
    reset: () => {
      dead = false;
      proxy.policy = undefined;
      proxy.holdTransaction = undefined;
      proxy.afterDeath = "drop";
      proxy.indexLagMs = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((closed) => server.close(() => closed()));
      agent.destroy();
    },
  };
  return proxy;
}

function groupBy<T, K>(list: T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of list) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function transactionCanceled(reasons: Json[]): Json {
  return {
    __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
    Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`,
    CancellationReasons: reasons,
  };
}

/** Splits per-table request lists into the first `keep` requests overall and the rest. */
function splitRequests<T>(
  tables: Record<string, T[]>,
  keep: number,
  copy: (item: T) => T,
): [Record<string, T[]>, Record<string, T[]>] {
  const kept: Record<string, T[]> = {};
  const rest: Record<string, T[]> = {};
  let left = keep;
  for (const [table, list] of Object.entries(tables)) {
    for (const item of list) {
      const into = left > 0 ? kept : rest;
      if (left > 0) left--;
      (into[table] ??= []).push(copy(item));
    }
  }
  return [kept, rest];
}

function mergeUnprocessed(output: Json, unprocessed: Json): Json {
  const merged = { ...output };
  for (const field of ["UnprocessedItems", "UnprocessedKeys"]) {
    const extra = unprocessed[field] as Record<string, any> | undefined;
    if (!extra || Object.keys(extra).length === 0) continue;
    const existing = { ...((output[field] as Record<string, any>) ?? {}) };
    for (const [table, value] of Object.entries(extra)) {
      if (field === "UnprocessedItems") existing[table] = [...(existing[table] ?? []), ...value];
      else existing[table] = { ...value, Keys: [...(existing[table]?.Keys ?? []), ...value.Keys] };
    }
    merged[field] = existing;
  }
  return merged;
}
