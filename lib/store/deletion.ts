import { createHash } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { ServiceError } from "../errors.ts";
import type { DeleteRequest, DeleteResult } from "../model.ts";
import { orderBlockOf, TABLE, tombstoneKey } from "../table.ts";
import { getAll, type Item } from "./batch.ts";
import { retrying } from "./client.ts";
import { readTask, type StoreContext, taskKey } from "./task-item.ts";

/** DynamoDB's actions per transaction. */
const MAX_ACTIONS = 100;
/** Look-ups of images whose transaction was cancelled because one of them changed meanwhile. */
const MAX_ROUNDS = 10;

type Target = { imgId: string; orderId: number };

/**
 * Logical deletion (the legacy platform's `is_del`): each image loses its order-index key and is
 * marked `deleted` (keeping its order_id, never given out again), its order_id joins its block's
 * tombstone, and the task item's image_count goes down and deleted_count up by exactly the images
 * deleted — all in one transaction per batch, so the counts never drift, even when a process dies.
 * An image already deleted changes nothing and is counted in `already_deleted`.
 */
export async function deleteImages(
  ctx: StoreContext,
  { taskId, imgIds }: DeleteRequest,
  deadline: number,
): Promise<DeleteResult> {
  const task = await readTask(ctx, taskId, deadline);
  if (!task?.image_count) {
    throw new ServiceError(
      1003,
      { task_id: taskId },
      { detail: `task ${taskId} has no images (none registered, or all deleted)` },
    );
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
    for (const batch of batches(targets)) {
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

/**
 * Cuts the deletions (in order_id order) into transactions of at most 100 actions: the images,
 * the task item, and one tombstone per order block the batch touches.
 */
function batches(targets: Target[]): Target[][] {
  const sorted = [...targets].sort((a, b) => a.orderId - b.orderId);
  const out: Target[][] = [];
  let current: Target[] = [];
  let blocks = new Set<number>();
  for (const target of sorted) {
    const block = orderBlockOf(target.orderId);
    const actions = current.length + 1 + 1 + blocks.size + (blocks.has(block) ? 0 : 1);
    if (actions > MAX_ACTIONS) {
      out.push(current);
      current = [];
      blocks = new Set();
    }
    current.push(target);
    blocks.add(block);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** One transaction; false when it was cancelled because an image changed meanwhile (deleted, re-registered). */
async function deleteBatch(ctx: StoreContext, taskId: string, batch: Target[], deadline: number): Promise<boolean> {
  const byBlock = new Map<number, number[]>();
  for (const { orderId } of batch) {
    const block = orderBlockOf(orderId);
    byBlock.set(block, [...(byBlock.get(block) ?? []), orderId]);
  }
  const content = JSON.stringify([taskId, batch.map((target) => [target.imgId, target.orderId])]);
  const command = new TransactWriteCommand({
    // Fixed for this attempt (the retries below resend this very command), so a retry of a
    // transaction whose answer was lost is not applied twice.
    ClientRequestToken: createHash("sha256").update(content).update(String(Date.now())).digest("hex").slice(0, 36),
    TransactItems: [
      ...batch.map(({ imgId, orderId }) => ({
        Update: {
          TableName: ctx.table,
          Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: imgId },
          UpdateExpression: "REMOVE #block SET deleted = :true",
          ConditionExpression: "attribute_exists(#sk) AND attribute_not_exists(deleted) AND order_id = :order",
          ExpressionAttributeNames: { "#block": TABLE.orderIndex.partitionKey, "#sk": TABLE.sortKey },
          ExpressionAttributeValues: { ":true": true, ":order": orderId },
        },
      })),
      {
        Update: {
          TableName: ctx.table,
          Key: taskKey(taskId),
          UpdateExpression: "ADD image_count :minus, deleted_count :n",
          ExpressionAttributeValues: { ":minus": -batch.length, ":n": batch.length },
        },
      },
      ...[...byBlock].map(([block, orderIds]) => ({
        Update: {
          TableName: ctx.table,
          Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: tombstoneKey(block) },
          UpdateExpression: "ADD order_ids :ids",
          ExpressionAttributeValues: { ":ids": new Set(orderIds) },
        },
      })),
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
