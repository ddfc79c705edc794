import { getAll } from "./batch.ts";
import { TABLE, tombstoneKey, tombstoneOrderId } from "./table.ts";
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
    deleted.add(tombstoneOrderId(item[TABLE.sortKey] as string));
  }
  return deleted;
}
