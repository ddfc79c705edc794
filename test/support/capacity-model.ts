import { TABLE } from "../../lib/store/table.ts";

/**
 * DynamoDB's per-partition capacity, as a pure model the fault proxy (test/support/fault-proxy.ts)
 * applies to the calls it forwards to DynamoDB Local, which never throttles. Numbers from the
 * DynamoDB developer guide ("Read/write capacity", "Transactions", "GSI", "Burst and adaptive
 * capacity").
 *
 * Buckets
 * - One token bucket per partition key value: for the table (key: the table's partition key value,
 *   e.g. task_id) and for each GSI (key: the index partition key value, e.g. order_block), kept
 *   apart per table name. Default rates 1,000 WCU/s and 3,000 RCU/s for every bucket, table and
 *   index alike (`CapacityOptions`). A bucket starts full, holds one second of its rate (no burst
 *   credit) and refills continuously; it may go below zero (debt) when a cost is only known after
 *   the call, and then admits nothing until it has refilled above the threshold.
 *
 * Item size (bytes): sum over attributes of UTF-8 name bytes + value size; string: UTF-8 bytes;
 * number: ceil(significant digits / 2) + 1 (leading/trailing zeros, sign, point and exponent not
 * counted; 0 is 1 byte); binary: raw bytes (base64-decoded); boolean, null: 1; list: 3 + per element
 * (1 + element size); map: 3 + per entry (1 + key bytes + value size); sets: sum of the elements.
 *
 * Write units (WCU)
 * - Table: per item ceil(max(size before, size after) / 1 KB), minimum 1 (a delete of a missing
 *   item costs 1). The sizes are the whole stored item's, whatever the write names: an UpdateItem
 *   or a transaction's Update that changes one small attribute of a large item pays for all of it. TransactWriteItems: the table units of every action count twice (prepare +
 *   commit); a ConditionCheck action costs like a transactional write of the item it checks.
 * - Each GSI, from the item's entry in it before and after (an entry exists when the item has all
 *   the index's key attributes; it holds the table keys, the index keys and the projected
 *   attributes), each write ceil(entry size / 1 KB), minimum 1: entry added or removed: 1 write in
 *   its partition; key changed (partition or sort value): 2 (delete in the old partition, put in
 *   the new one); same key, some projected attribute changed: 1 (the larger entry); nothing
 *   projected changed: 0. Index writes are not doubled in transactions: GSIs are maintained once,
 *   after the commit.
 * - A failed conditional write (ConditionalCheckFailed, or a transaction DynamoDB cancels) still
 *   costs the table units of the item as it stands (x2 in a transaction), no index writes; any other
 *   error costs nothing.
 *
 * Read units (RCU)
 * - GetItem and each BatchGetItem key: ceil(item size / 4 KB) (an item not found counts as one
 *   4 KB unit), halved when eventually consistent (so 0.5 minimum).
 * - Query / Scan: the summed size of the items of the page, rounded up to 4 KB (minimum one unit),
 *   halved when eventually consistent; index queries are always eventually consistent. The size
 *   is that of the whole item (table) or whole index entry (index), whatever ProjectionExpression
 *   or Select asked for. Items a FilterExpression dropped are charged at the mean size of the
 *   returned ones (1 KB when none was returned).
 *
 * Admission
 * - Writes are charged before they are forwarded, from an estimate (PutItem, DeleteItem and
 *   BatchWriteItem are exact; UpdateItem assumes the item keeps its size and index keys and
 *   charges one index write where the item already has an entry and the update names an index key
 *   or projected attribute), then settled to the actual cost once the after-image is known.
 *   A write is admitted when every bucket it needs holds its units (summed over the actions of a
 *   transaction), or is full (so an item costing more than a bucket holds still goes through, into
 *   debt).
 * - Reads are charged after the answer: a read is admitted when its bucket is above zero, and
 *   reserves the most it can cost while in flight (a 1 MB page for Query/Scan: 256 RCU strong, 128
 *   eventual; one 4 KB item for GetItem and for each BatchGetItem key: 1 / 0.5), so that parallel
 *   reads cannot all slip in; the reservation is then replaced by the actual cost.
 * - Scan and TransactGetItems are counted, never throttled (a Scan spans partitions).
 *
 * Over the limit (the proxy's answers): BatchWriteItem / BatchGetItem admit items / keys one by one
 * in request order and return the others as UnprocessedItems / UnprocessedKeys; when none at all
 * is admitted the call fails with ProvisionedThroughputExceededException (as DynamoDB documents for
 * both). Any other call fails with HTTP 400 ProvisionedThroughputExceededException (ThrottlingReasons
 * Table|Index + Read|Write + KeyRangeThroughputExceeded). A TransactWriteItems fails whole with
 * TransactionCanceledException, CancellationReasons code ThrottlingError on the actions whose
 * buckets lacked units and None on the others; it consumes nothing.
 */

/** DynamoDB wire JSON, read loosely. */
export type Json = Record<string, any>;
/** One attribute value in wire form, e.g. { S: "x" }. */
export type AttributeValue = Json;
export type Item = Record<string, AttributeValue>;

export interface IndexSchema {
  name: string;
  partitionKey: string;
  sortKey?: string;
  /** "ALL", "KEYS_ONLY", or the INCLUDE list of non-key attributes. */
  projection: "ALL" | "KEYS_ONLY" | readonly string[];
}

export interface TableSchema {
  partitionKey: string;
  sortKey?: string;
  indexes: IndexSchema[];
}

/** The project's table layout (lib/store/table.ts), for unit tests; the proxy reads each table's own with DescribeTable. */
export const appTableSchema = (): TableSchema => ({
  partitionKey: TABLE.partitionKey,
  sortKey: TABLE.sortKey,
  indexes: [
    {
      name: TABLE.orderIndex.indexName,
      partitionKey: TABLE.orderIndex.partitionKey,
      sortKey: TABLE.orderIndex.sortKey,
      projection: TABLE.projectedAttributes,
    },
  ],
});

/** A TableSchema from a DescribeTable answer's `Table`. */
export function schemaFromDescription(table: Json): TableSchema {
  const keys = (schema: Json[] | undefined) => ({
    hash: schema?.find((k) => k.KeyType === "HASH")?.AttributeName as string,
    range: schema?.find((k) => k.KeyType === "RANGE")?.AttributeName as string | undefined,
  });
  const own = keys(table.KeySchema);
  return {
    partitionKey: own.hash,
    ...(own.range ? { sortKey: own.range } : {}),
    indexes: ((table.GlobalSecondaryIndexes ?? []) as Json[]).map((index) => {
      const k = keys(index.KeySchema);
      const type = index.Projection?.ProjectionType ?? "ALL";
      return {
        name: String(index.IndexName),
        partitionKey: k.hash,
        ...(k.range ? { sortKey: k.range } : {}),
        projection: type === "INCLUDE" ? ((index.Projection?.NonKeyAttributes ?? []) as string[]) : type,
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Sizes and units

export const KB = 1024;
/** Largest Query/Scan page. */
export const PAGE_BYTES = 1024 * KB;

const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

/** Bytes of a number value: ceil(significant digits / 2) + 1. */
export function numberSize(text: string): number {
  const mantissa = text.trim().replace(/^[+-]/, "").split(/[eE]/)[0] ?? "";
  const digits = mantissa.replace(".", "").replace(/^0+/, "").replace(/0+$/, "").length;
  return digits === 0 ? 1 : Math.ceil(digits / 2) + 1;
}

/** Bytes of one attribute value (without its name). */
export function attributeValueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(String(value.S));
  if (value.N !== undefined) return numberSize(String(value.N));
  if (value.B !== undefined) return Buffer.from(String(value.B), "base64").length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return (value.SS as string[]).reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return (value.NS as string[]).reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined)
    return (value.BS as string[]).reduce((sum, b) => sum + Buffer.from(b, "base64").length, 0);
  if (value.L !== undefined)
    return 3 + (value.L as AttributeValue[]).reduce((sum, element) => sum + 1 + attributeValueSize(element), 0);
  if (value.M !== undefined)
    return (
      3 +
      Object.entries(value.M as Item).reduce(
        (sum, [name, element]) => sum + 1 + utf8(name) + attributeValueSize(element),
        0,
      )
    );
  return 0;
}

/** Bytes of an item: names plus values. */
export const itemSize = (item: Item | undefined): number =>
  item ? Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + attributeValueSize(value), 0) : 0;

/** Write units for `bytes`: per started KB, minimum 1. */
export const writeUnitsFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));

/** Read units for `bytes` read in one item or one page: per started 4 KB (minimum one), halved when eventually consistent. */
export const readUnitsFor = (bytes: number, consistent: boolean): number =>
  Math.max(1, Math.ceil(bytes / (4 * KB))) * (consistent ? 1 : 0.5);

// ---------------------------------------------------------------------------------------------
// Charges

/** Units taken from one bucket: a table partition (no index) or an index partition. */
export interface Charge {
  table: string;
  index?: string;
  partition: string;
  units: number;
}

/** A scalar key value as text (S, N or B). */
const scalar = (value: AttributeValue | undefined): string | undefined =>
  value === undefined ? undefined : String(value.S ?? value.N ?? value.B);

/** Stable JSON (map keys sorted), to compare attribute values. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Json)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}

/** The table key of an item, as text (to match items with keys). */
export const keyOf = (schema: TableSchema, item: Item): string =>
  `${scalar(item[schema.partitionKey]) ?? ""}\u0000${schema.sortKey ? (scalar(item[schema.sortKey]) ?? "") : ""}`;

export interface IndexEntry {
  partition: string;
  /** Index partition and sort key values, as text. */
  key: string;
  /** The entry as the index holds it: table keys, index keys and projected attributes. */
  entry: Item;
}

/** An item's entry in one index, or undefined when it lacks one of the index key attributes (sparse index). */
export function indexEntry(schema: TableSchema, index: IndexSchema, item: Item | undefined): IndexEntry | undefined {
  if (!item) return undefined;
  const partition = scalar(item[index.partitionKey]);
  const sort = index.sortKey ? scalar(item[index.sortKey]) : "";
  if (partition === undefined || sort === undefined) return undefined;
  let entry: Item;
  if (index.projection === "ALL") entry = item;
  else {
    const names = new Set([schema.partitionKey, schema.sortKey, index.partitionKey, index.sortKey]);
    if (index.projection !== "KEYS_ONLY") for (const name of index.projection) names.add(name);
    entry = Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name)));
  }
  return { partition, key: `${partition}\u0000${sort}`, entry };
}

export interface WriteOptions {
  /** A TransactWriteItems action: table units count twice. */
  transactional?: boolean;
  /** Only the table units of the item as it stands (a ConditionCheck, a failed conditional write). */
  tableOnly?: boolean;
}

/** What writing one item costs, from its image before and after (undefined = absent). */
export function itemWriteCharges(
  table: string,
  schema: TableSchema,
  before: Item | undefined,
  after: Item | undefined,
  options: WriteOptions = {},
): Charge[] {
  const partition = scalar((after ?? before)?.[schema.partitionKey]) ?? "";
  const units = writeUnitsFor(Math.max(itemSize(before), itemSize(after))) * (options.transactional ? 2 : 1);
  const charges: Charge[] = [{ table, partition, units }];
  if (options.tableOnly) return charges;
  for (const index of schema.indexes) {
    const old = indexEntry(schema, index, before);
    const now = indexEntry(schema, index, after);
    const write = (entry: IndexEntry, bytes = itemSize(entry.entry)) =>
      charges.push({ table, index: index.name, partition: entry.partition, units: writeUnitsFor(bytes) });
    if (old && now && old.key === now.key) {
      if (canonical(old.entry) !== canonical(now.entry)) write(now, Math.max(itemSize(old.entry), itemSize(now.entry)));
    } else {
      if (old) write(old);
      if (now) write(now);
    }
  }
  return charges;
}

/** Attribute names an update expression names at the head of a path (#aliases resolved). */
function namesInExpression(expression: string | undefined, aliases: Record<string, string> = {}): Set<string> {
  const names = new Set<string>();
  const keywords = new Set(["SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append", "AND", "OR", "NOT"]);
  for (const match of String(expression ?? "").matchAll(/(?<![:.\w#])(#?[A-Za-z_][\w]*)/g)) {
    const token = match[1]!;
    if (token.startsWith("#")) names.add(aliases[token] ?? token);
    else if (!keywords.has(token) && !keywords.has(token.toUpperCase())) names.add(token);
  }
  return names;
}

/**
 * The estimate of an UpdateItem before it runs: the table units of the item as it stands, and one
 * index write (of its current entry) in each index where it has an entry and the update names a key
 * or projected attribute of that index.
 */
export function updateEstimate(
  table: string,
  schema: TableSchema,
  before: Item | undefined,
  update: { UpdateExpression?: string; ExpressionAttributeNames?: Record<string, string>; Key?: Item },
  options: WriteOptions = {},
): Charge[] {
  const partition = scalar((before ?? update.Key)?.[schema.partitionKey]) ?? "";
  const charges: Charge[] = [
    { table, partition, units: writeUnitsFor(itemSize(before)) * (options.transactional ? 2 : 1) },
  ];
  const named = namesInExpression(update.UpdateExpression, update.ExpressionAttributeNames);
  for (const index of schema.indexes) {
    const old = indexEntry(schema, index, before);
    if (!old) continue;
    const relevant =
      index.projection === "ALL"
        ? named.size > 0
        : [index.partitionKey, index.sortKey, ...(index.projection === "KEYS_ONLY" ? [] : index.projection)].some(
            (name) => name !== undefined && named.has(name),
          );
    if (relevant)
      charges.push({ table, index: index.name, partition: old.partition, units: writeUnitsFor(itemSize(old.entry)) });
  }
  return charges;
}

/** Units of a Query/Scan page from the whole items it read. */
export const pageReadUnits = (items: Item[], consistent: boolean): number =>
  readUnitsFor(
    items.reduce((sum, item) => sum + itemSize(item), 0),
    consistent,
  );

/** The partition key value a Query's key condition fixes, or undefined. */
export function queryPartition(input: Json, partitionKey: string): string | undefined {
  const aliases = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Item;
  const expression = String(input.KeyConditionExpression ?? "");
  const name = (token: string) => (token.startsWith("#") ? aliases[token] : token);
  for (const match of expression.matchAll(/(#?[\w]+)\s*=\s*(:[\w]+)|(:[\w]+)\s*=\s*(#?[\w]+)/g)) {
    const [attribute, value] = match[1] ? [match[1], match[2]!] : [match[4]!, match[3]!];
    if (name(attribute) === partitionKey) return scalar(values[value]);
  }
  const legacy = input.KeyConditions?.[partitionKey]?.AttributeValueList?.[0];
  return scalar(legacy);
}

// ---------------------------------------------------------------------------------------------
// Buckets and counters

export interface CapacityOptions {
  /** Write units per second of each partition, table and index alike (default 1,000). */
  writeUnitsPerSecond?: number;
  /** Read units per second of each partition, table and index alike (default 3,000). */
  readUnitsPerSecond?: number;
  /** The clock, in ms (default Date.now); tests inject their own. */
  now?: () => number;
}

interface UnitCount {
  readUnits: number;
  writeUnits: number;
}

export interface Consumed extends UnitCount {
  table: UnitCount;
  /** Per index name. */
  indexes: Record<string, UnitCount>;
  /** Calls the model refused whole: ProvisionedThroughputExceededException or a throttled transaction. */
  throttledCalls: number;
  /** BatchWriteItem items not admitted (returned unprocessed, or refused with their whole call). */
  unprocessedItems: number;
  /** BatchGetItem keys not admitted. */
  unprocessedKeys: number;
}

interface Bucket {
  tokens: number;
  at: number;
  capacity: number;
}

const bucketKey = (charge: Omit<Charge, "units">) =>
  `${charge.table}\u0000${charge.index ?? ""}\u0000${charge.partition}`;

export class CapacityModel {
  readonly writeUnitsPerSecond: number;
  readonly readUnitsPerSecond: number;
  private readonly now: () => number;
  private readonly writeBuckets = new Map<string, Bucket>();
  private readonly readBuckets = new Map<string, Bucket>();
  private counts: Consumed = CapacityModel.empty();

  constructor(options: CapacityOptions = {}) {
    this.writeUnitsPerSecond = options.writeUnitsPerSecond ?? 1000;
    this.readUnitsPerSecond = options.readUnitsPerSecond ?? 3000;
    this.now = options.now ?? Date.now;
  }

  private static empty(): Consumed {
    return {
      readUnits: 0,
      writeUnits: 0,
      table: { readUnits: 0, writeUnits: 0 },
      indexes: {},
      throttledCalls: 0,
      unprocessedItems: 0,
      unprocessedKeys: 0,
    };
  }

  private bucket(kind: "read" | "write", charge: Omit<Charge, "units">): Bucket {
    const buckets = kind === "read" ? this.readBuckets : this.writeBuckets;
    const rate = kind === "read" ? this.readUnitsPerSecond : this.writeUnitsPerSecond;
    const key = bucketKey(charge);
    const now = this.now();
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = { tokens: rate, at: now, capacity: rate }));
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (rate * Math.max(0, now - bucket.at)) / 1000);
    bucket.at = now;
    return bucket;
  }

  private count(kind: "read" | "write", charge: Charge) {
    const field = kind === "read" ? "readUnits" : "writeUnits";
    this.counts[field] += charge.units;
    const target = charge.index
      ? (this.counts.indexes[charge.index] ??= { readUnits: 0, writeUnits: 0 })
      : this.counts.table;
    target[field] += charge.units;
  }

  /** Units in a bucket now (after refill); negative while in debt. */
  tokens(kind: "read" | "write", where: Omit<Charge, "units">): number {
    return this.bucket(kind, where).tokens;
  }

  /**
   * Takes write charges all or nothing. Returns the charges whose bucket lacked units (nothing was
   * taken then), or [] when all were taken.
   */
  takeWrites(charges: Charge[]): Charge[] {
    const needed = new Map<string, number>();
    for (const charge of charges) needed.set(bucketKey(charge), (needed.get(bucketKey(charge)) ?? 0) + charge.units);
    const short = charges.filter((charge) => {
      const bucket = this.bucket("write", charge);
      return bucket.tokens < needed.get(bucketKey(charge))! && bucket.tokens < bucket.capacity;
    });
    if (short.length > 0) return short;
    for (const charge of charges) {
      this.bucket("write", charge).tokens -= charge.units;
      this.count("write", charge);
    }
    return [];
  }

  /** Replaces charges taken by takeWrites with the actual cost (refunds or takes the difference, debt allowed). */
  settleWrites(taken: Charge[], actual: Charge[]) {
    for (const charge of taken) this.adjust("write", { ...charge, units: -charge.units });
    for (const charge of actual) this.adjust("write", charge);
  }

  /** Admits a read when its bucket is above zero, reserving `reserve` units; false when throttled. */
  admitRead(where: Omit<Charge, "units">, reserve: number): boolean {
    const bucket = this.bucket("read", where);
    if (bucket.tokens <= 0) return false;
    bucket.tokens -= reserve;
    return true;
  }

  /** Replaces a read's reservation with its actual cost (counted as consumed). */
  settleRead(where: Omit<Charge, "units">, reserved: number, actual: number) {
    const bucket = this.bucket("read", where);
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + reserved - actual);
    this.count("read", { ...where, units: actual });
  }

  /** Counts a read that is never throttled (Scan, TransactGetItems). */
  countRead(charge: Charge) {
    this.count("read", charge);
  }

  private adjust(kind: "read" | "write", charge: Charge) {
    const bucket = this.bucket(kind, charge);
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens - charge.units);
    this.count(kind, charge);
  }

  noteThrottled() {
    this.counts.throttledCalls++;
  }
  noteUnprocessedItems(count: number) {
    this.counts.unprocessedItems += count;
  }
  noteUnprocessedKeys(count: number) {
    this.counts.unprocessedKeys += count;
  }

  /** Units consumed and refusals since the start or the last reset. */
  consumed(): Consumed {
    return structuredClone(this.counts);
  }

  /** Zeroes the counters and fills every bucket again (a fresh account). */
  reset() {
    this.counts = CapacityModel.empty();
    this.writeBuckets.clear();
    this.readBuckets.clear();
  }
}
