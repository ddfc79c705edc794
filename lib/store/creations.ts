import { queryAll } from "./images.ts";
import { CREATION_PREFIX, creationKey, orderIdIn, TABLE } from "./table.ts";
import type { StoreContext } from "./task-item.ts";
import { readTombstones } from "./tombstones.ts";

/**
 * Which order_ids a registration's transaction created: the first and last in the key and item, and
 * those between them it did not create (given to an image another registration created first).
 * Written in that transaction, so an order_id it names belongs to an image that exists or was
 * deleted (a tombstone then says so); order_ids no record names are holes, given to no image.
 */
export function creationRecord(taskId: string, orderIds: readonly number[]) {
  const first = Math.min(...orderIds);
  const last = Math.max(...orderIds);
  const created = new Set(orderIds);
  const skipped: number[] = [];
  for (let id = first; id <= last; id++) if (!created.has(id)) skipped.push(id);
  return {
    [TABLE.partitionKey]: taskId,
    [TABLE.sortKey]: creationKey(first),
    last,
    ...(skipped.length > 0 ? { skipped } : {}),
  };
}

/**
 * The order_ids from `from` to `to` that registrations created (strongly consistent). A record
 * spans at most `span` order_ids, so those starting up to `span - 1` before `from` are read too.
 */
async function createdBetween(
  ctx: StoreContext,
  taskId: string,
  from: number,
  to: number,
  span: number,
  deadline: number,
): Promise<number[]> {
  const records = await queryAll(
    ctx,
    {
      TableName: ctx.table,
      KeyConditionExpression: "#pk = :t AND #sk BETWEEN :first AND :last",
      ProjectionExpression: "#sk, #last, skipped",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey, "#last": "last" },
      ExpressionAttributeValues: {
        ":t": taskId,
        ":first": creationKey(Math.max(1, from - span + 1)),
        ":last": creationKey(to),
      },
      ConsistentRead: true,
    },
    deadline,
  );
  const created: number[] = [];
  for (const record of records) {
    const first = orderIdIn(CREATION_PREFIX, record[TABLE.sortKey] as string);
    const skipped = new Set((record.skipped as number[] | undefined) ?? []);
    for (let id = Math.max(first, from); id <= Math.min(record.last as number, to); id++) {
      if (!skipped.has(id)) created.push(id);
    }
  }
  return created;
}

/**
 * The images with an order_id from `from` to `to` that registrations created and did not delete,
 * but `listed` lacks: what the order index does not show yet. Tasks registered before creation
 * records were written have none, and nothing is missed among them.
 */
export async function notYetIndexed(
  ctx: StoreContext,
  taskId: string,
  range: { from: number; to: number; span: number },
  listed: ReadonlySet<number>,
  deadline: number,
): Promise<number[]> {
  if (range.to < range.from) return [];
  const created = await createdBetween(ctx, taskId, range.from, range.to, range.span, deadline);
  const missing = created.filter((id) => !listed.has(id));
  if (missing.length === 0) return [];
  const deleted = await readTombstones(ctx, taskId, missing, deadline);
  return missing.filter((id) => !deleted.has(id));
}
