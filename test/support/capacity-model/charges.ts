import { type IndexEntry, type Item, indexEntry, type Json, scalar, type TableSchema } from "./schema.ts";
import { itemSize, writeUnitsFor } from "./sizes.ts";

/**
 * Write units (WCU)
 * - Table: per item ceil(max(size before, size after) / 1 KB), minimum 1 (a delete of a missing
 *   item costs 1). The sizes are the whole stored item's, whatever the write names: an UpdateItem
 *   or a transaction's Update that changes one small attribute of a large item pays for all of it.
 *   TransactWriteItems: the table units of every action count twice (prepare + commit); a
 *   ConditionCheck action costs like a transactional write of the item it checks.
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
 * - Before a write runs its cost is estimated (PutItem, DeleteItem and BatchWriteItem are exact;
 *   UpdateItem assumes the item keeps its size and index keys, see updateEstimate), then settled to
 *   the actual cost once the after-image is known.
 */

/** Units taken from one bucket: a table partition (no index) or an index partition. */
export interface Charge {
  table: string;
  index?: string;
  partition: string;
  units: number;
}

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
