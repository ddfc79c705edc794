import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { SplitRecord, SplitRef } from "../model.ts";
import { getAll } from "./batch.ts";
import { retrying } from "./client.ts";
import { runKey, TABLE } from "./table.ts";
import type { StoreContext } from "./task-item.ts";

/**
 * A split's record: one item under the split's run key, written before its chunks and its publish
 * and never changed after (only an expiry is set on it once no task item can point to it).
 */
export async function writeRecord(ctx: StoreContext, taskId: string, record: SplitRecord, deadline: number) {
  await retrying(deadline, () =>
    ctx.db.send(
      new PutCommand({
        TableName: ctx.table,
        Item: { ...record, [TABLE.partitionKey]: taskId, [TABLE.sortKey]: runKey(record.version, record.token) },
      }),
    ),
  );
}

/** The records of `refs`, in their order; a record that is gone (expired) is left out. */
export async function readRecords(
  ctx: StoreContext,
  taskId: string,
  refs: readonly Pick<SplitRef, "version" | "token">[],
  deadline: number,
): Promise<SplitRecord[]> {
  if (refs.length === 0) return [];
  const keys = refs.map((ref) => ({
    [TABLE.partitionKey]: taskId,
    [TABLE.sortKey]: runKey(ref.version, ref.token),
  }));
  const bySortKey = new Map<string, SplitRecord>();
  for (const item of await getAll(ctx.db, ctx.table, keys, deadline, ctx.config.concurrency)) {
    const {
      [TABLE.partitionKey]: _task,
      [TABLE.sortKey]: sortKey,
      [TABLE.expiryAttribute]: _expires,
      ...record
    } = item as Record<string, unknown>;
    bySortKey.set(sortKey as string, record as unknown as SplitRecord);
  }
  return keys.flatMap((key) => bySortKey.get(key[TABLE.sortKey] as string) ?? []);
}
