import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { chunk } from "../concurrency.ts";
import type { Item } from "./batch.ts";
import { retrying } from "./client.ts";
import { queryAll } from "./images.ts";
import { COUNTING_PREFIX, countingKey, orderIdIn, TABLE } from "./table.ts";
import { type StoreContext, taskKey } from "./task-item.ts";

/**
 * Images a registration transaction created that the task's counts do not hold yet: `added` to
 * image_count, `revived` (deleted images registered again) taken from deleted_count.
 */
export interface Uncounted {
  first: number;
  added: number;
  revived: number;
}

/** DynamoDB's 100 actions a transaction, less the task item's update. */
const MARKERS_PER_TRANSACTION = 99;

/** The marker item of `uncounted`, written in the transaction that created its images. */
export const countingMarker = (taskId: string, { first, added, revived }: Uncounted): Item => ({
  [TABLE.partitionKey]: taskId,
  [TABLE.sortKey]: countingKey(first),
  added,
  revived,
});

/**
 * Adds the images the markers name to the task's counts and deletes the markers, in one
 * transaction per 99 markers, each marker at most once whoever settles it: one another caller
 * settled first is left out. So registrations create images without touching the task item (they
 * never queue on it), and a registration that dies before settling is counted by the next one.
 */
export async function settleCounts(
  ctx: StoreContext,
  taskId: string,
  uncounted: readonly Uncounted[],
  deadline: number,
): Promise<void> {
  for (const batch of chunk(uncounted, MARKERS_PER_TRANSACTION)) {
    let pending = batch;
    while (pending.length > 0) {
      const added = pending.reduce((sum, marker) => sum + marker.added, 0);
      const revived = pending.reduce((sum, marker) => sum + marker.revived, 0);
      const command = new TransactWriteCommand({
        TransactItems: [
          ...pending.map((marker) => ({
            Delete: {
              TableName: ctx.table,
              Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: countingKey(marker.first) },
              ConditionExpression: "attribute_exists(#sk)",
              ExpressionAttributeNames: { "#sk": TABLE.sortKey },
            },
          })),
          {
            Update: {
              TableName: ctx.table,
              Key: taskKey(taskId),
              UpdateExpression: revived > 0 ? "ADD image_count :n, deleted_count :minus" : "ADD image_count :n",
              ExpressionAttributeValues: { ":n": added, ...(revived > 0 ? { ":minus": -revived } : {}) },
            },
          },
        ],
      });
      try {
        await retrying(deadline, () => ctx.db.send(command));
        pending = [];
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const settled = pending.filter((_, i) => reasons[i]?.Code === "ConditionalCheckFailed");
        if (settled.length === 0) throw error;
        pending = pending.filter((marker) => !settled.includes(marker));
      }
    }
  }
}

/** The task's markers left by registrations that did not settle their counts (strongly consistent). */
export async function leftUncounted(ctx: StoreContext, taskId: string, deadline: number): Promise<Uncounted[]> {
  const items = await queryAll(
    ctx,
    {
      TableName: ctx.table,
      KeyConditionExpression: "#pk = :t AND begins_with(#sk, :prefix)",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
      ExpressionAttributeValues: { ":t": taskId, ":prefix": COUNTING_PREFIX },
      ConsistentRead: true,
    },
    deadline,
  );
  return items.map((item) => ({
    first: orderIdIn(COUNTING_PREFIX, item[TABLE.sortKey] as string),
    added: item.added as number,
    revived: item.revived as number,
  }));
}
