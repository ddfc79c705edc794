import { getAll } from "./batch.ts";
import { queryAll } from "./images.ts";
import { orderIdIn, TABLE, TOMBSTONE_PREFIX, tombstoneKey } from "./table.ts";
import type { StoreContext } from "./task-item.ts";

/**
 * Which of `orderIds` are deleted (strongly consistent): a deletion writes each image's tombstone
 * in the same transaction that removes its index key, so an order_id missing from the index and
 * present here is deleted, not lagging. Reads exactly those tombstones, so it costs the same
 * however many other images were deleted.
 */
export async function readTombstones(
  ctx: StoreContext,
  taskId: string,
  orderIds: Iterable<number>,
  deadline: number,
): Promise<Set<number>> {
  const keys = [...new Set(orderIds)].map((orderId) => ({
    [TABLE.partitionKey]: taskId,
    [TABLE.sortKey]: tombstoneKey(orderId),
  }));
  const deleted = new Set<number>();
  if (keys.length === 0) return deleted;
  const projection = { expression: "#sk", names: { "#sk": TABLE.sortKey } };
  for (const item of await getAll(ctx.db, ctx.table, keys, deadline, ctx.config.concurrency, projection)) {
    deleted.add(orderIdIn(TOMBSTONE_PREFIX, item[TABLE.sortKey] as string));
  }
  return deleted;
}

/**
 * Every deleted order_id from 1 to `n` (a strongly consistent Query of the tombstones): what the
 * task summary needs to count a split's members that are gone. Its cost grows with the deletions
 * up to `n`, unlike `readTombstones`; no listing or write uses it.
 */
export async function readTombstonesUpTo(
  ctx: StoreContext,
  taskId: string,
  n: number,
  deadline: number,
): Promise<number[]> {
  if (n < 1) return [];
  const items = await queryAll(
    ctx,
    {
      TableName: ctx.table,
      KeyConditionExpression: "#pk = :t AND #sk BETWEEN :first AND :last",
      ProjectionExpression: "#sk",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
      ExpressionAttributeValues: { ":t": taskId, ":first": tombstoneKey(1), ":last": tombstoneKey(n) },
      ConsistentRead: true,
    },
    deadline,
  );
  return items.map((item) => orderIdIn(TOMBSTONE_PREFIX, item[TABLE.sortKey] as string));
}
