import { TABLE, tombstoneKey } from "../table.ts";
import { getAll } from "./batch.ts";
import type { StoreContext } from "./task-item.ts";

/**
 * The deleted order_ids of `blocks` (strongly consistent): a deletion adds its images' order_ids to
 * their blocks' tombstones in the same transaction that removes their index keys, so an order_id
 * missing from the index and present here is deleted, not lagging.
 */
export async function readTombstones(
  ctx: StoreContext,
  taskId: string,
  blocks: Iterable<number>,
  deadline: number,
): Promise<Set<number>> {
  const keys = [...new Set(blocks)].map((block) => ({
    [TABLE.partitionKey]: taskId,
    [TABLE.sortKey]: tombstoneKey(block),
  }));
  const deleted = new Set<number>();
  if (keys.length === 0) return deleted;
  for (const item of await getAll(ctx.db, ctx.table, keys, deadline, ctx.config.concurrency)) {
    for (const orderId of (item.order_ids as Set<number> | undefined) ?? []) deleted.add(Number(orderId));
  }
  return deleted;
}
