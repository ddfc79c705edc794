import { randomUUID } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { chunk } from "../concurrency.ts";
import { ServiceError } from "../errors.ts";
import type { DeleteRequest, DeleteResult } from "../model.ts";
import { getAll, type Item } from "./batch.ts";
import { retrying } from "./client.ts";
import { TABLE, tombstoneKey } from "./table.ts";
import { readTask, type StoreContext, taskKey } from "./task-item.ts";

/** Images a transaction deletes: two actions each (the image, its tombstone) and the task item, within DynamoDB's 100. */
const BATCH_IMAGES = 49;
/** Look-ups of images whose transaction was cancelled because one of them changed meanwhile. */
const MAX_ROUNDS = 10;

type Target = { imgId: string; orderId: number };

/**
 * Logical deletion (the legacy platform's `is_del`): each image loses its order-index key and is
 * marked `deleted` (keeping its order_id, never given out again), a tombstone item of its own is
 * written for its order_id, and the task item's image_count goes down and deleted_count up by
 * exactly the images deleted — all in one transaction per batch, so the counts never drift, even
 * when a process dies. Every item written is small and none grows with earlier deletions, so an
 * image costs the same to delete whatever its block has seen. An image already deleted changes
 * nothing and is counted in `already_deleted`; 1003 only for a task that never had images.
 */
export async function deleteImages(
  ctx: StoreContext,
  { taskId, imgIds }: DeleteRequest,
  deadline: number,
): Promise<DeleteResult> {
  const task = await readTask(ctx, taskId, deadline);
  if ((task?.image_count ?? 0) + (task?.deleted_count ?? 0) === 0) {
    throw new ServiceError(1003, { task_id: taskId }, { detail: `task ${taskId} has no images (none registered)` });
  }
  let pending = imgIds;
  let deleted = 0;
  let alreadyDeleted = 0;
  const missing = new Set<string>();
  // A batch refused because one of its images changed meanwhile is looked up again and retried.
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) throw new Error(`deleting images of ${taskId}: ${pending.length} still changing`);
    const items = await lookUp(ctx, taskId, pending, deadline);
    const targets: Target[] = [];
    for (const imgId of pending) {
      const item = items.get(imgId);
      if (!item) missing.add(imgId);
      else if (item.deleted === true) alreadyDeleted++;
      else targets.push({ imgId, orderId: item.order_id as number });
    }
    pending = [];
    const inOrder = [...targets].sort((a, b) => a.orderId - b.orderId);
    for (const batch of chunk(inOrder, BATCH_IMAGES)) {
      // A cancelled transaction applied nothing: its images are looked up and tried again.
      if (await deleteBatch(ctx, taskId, batch, deadline)) deleted += batch.length;
      else pending.push(...batch.map((target) => target.imgId));
    }
  }
  const after = await readTask(ctx, taskId, deadline);
  return {
    taskId,
    deleted,
    alreadyDeleted,
    notFound: imgIds.filter((imgId) => missing.has(imgId)),
    total: after?.image_count ?? 0,
  };
}

async function lookUp(ctx: StoreContext, taskId: string, imgIds: readonly string[], deadline: number) {
  const keys = imgIds.map((imgId) => ({ [TABLE.partitionKey]: taskId, [TABLE.sortKey]: imgId }));
  const items = new Map<string, Item>();
  const projection = { expression: "#sk, order_id, deleted", names: { "#sk": TABLE.sortKey } };
  for (const item of await getAll(ctx.db, ctx.table, keys, deadline, ctx.config.concurrency, projection)) {
    items.set(item[TABLE.sortKey] as string, item);
  }
  return items;
}

/** One transaction; false when it was cancelled because an image changed meanwhile (deleted, re-registered). */
async function deleteBatch(ctx: StoreContext, taskId: string, batch: Target[], deadline: number): Promise<boolean> {
  const command = new TransactWriteCommand({
    // One token for this attempt, resent by its retries below, so a transaction whose answer was
    // lost is not applied twice; random, so another request (even an identical one) never
    // passes for a replay of this one.
    ClientRequestToken: randomUUID(),
    TransactItems: [
      ...batch.flatMap(({ imgId, orderId }) => [
        {
          Update: {
            TableName: ctx.table,
            Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: imgId },
            UpdateExpression: "REMOVE #block SET deleted = :true",
            ConditionExpression: "attribute_exists(#sk) AND attribute_not_exists(deleted) AND order_id = :order",
            ExpressionAttributeNames: { "#block": TABLE.orderIndex.partitionKey, "#sk": TABLE.sortKey },
            ExpressionAttributeValues: { ":true": true, ":order": orderId },
          },
        },
        {
          Put: {
            TableName: ctx.table,
            Item: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: tombstoneKey(orderId) },
          },
        },
      ]),
      {
        Update: {
          TableName: ctx.table,
          Key: taskKey(taskId),
          UpdateExpression: "ADD image_count :minus, deleted_count :n",
          ExpressionAttributeValues: { ":minus": -batch.length, ":n": batch.length },
        },
      },
    ],
  });
  try {
    await retrying(deadline, () => ctx.db.send(command));
    return true;
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    if (!reasons.some((reason) => reason?.Code === "ConditionalCheckFailed")) throw error;
    return false;
  }
}
