import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { chunk, forEachLimited } from "../concurrency.ts";
import type { ImageInput, RegisterRequest, RegisterResult } from "../model.ts";
import { getAll, type Item } from "./batch.ts";
import { retrying } from "./client.ts";
import { countingMarker, leftUncounted, settleCounts, type Uncounted } from "./counting.ts";
import { creationRecord } from "./creations.ts";
import { orderBlockKey, orderBlockOf, TABLE } from "./table.ts";
import { allocateOrderIds, readTask, type StoreContext } from "./task-item.ts";

/**
 * Image creations per transaction: DynamoDB's 100 actions, less the creation record and the
 * counting marker. The most order_ids one creation record spans.
 */
export const CREATES_PER_TRANSACTION = 98;

/**
 * A registration's creation transactions in flight at once. They share the task's partition (1,000
 * write units a second, ~196 a transaction) with every other writer of the task: more at once only
 * takes turns from parallel uploaders (measured through the capacity model, docs/performance.md).
 */
const CREATIONS_AT_ONCE = 2;

/**
 * The share of a registration's time left that its creation transactions are scheduled over; the
 * rest is slack for the ones that fall behind, and for settling the counts after.
 */
const SCHEDULE_SHARE = 0.8;

const OPTIONAL_FIELDS = ["state", "label", "group"] as const;

/** The stored fields a registration sets on an image: the name always, the others when given. */
const givenFields = (image: ImageInput): Item => ({
  img_name: image.imgName,
  ...Object.fromEntries(OPTIONAL_FIELDS.filter((f) => image[f] !== undefined).map((f) => [f, image[f]])),
});

/**
 * Idempotent upsert (docs/design.md "Registration"): a known image gets the fields given set with UpdateItem
 * (an omitted state, label or group keeps its value); new images get order_ids from one atomic
 * allocation and are created with conditional puts in transactions that leave the task item alone
 * (parallel registrations never queue on it), each with a marker of what it created; the markers
 * are then settled into the task's counts (lib/store/counting.ts), those a registration that died
 * left behind by the next one, so the count never drifts from the images. Never waits for a split.
 */
export async function registerImages(
  ctx: StoreContext,
  { taskId, images }: RegisterRequest,
  deadline: number,
): Promise<RegisterResult> {
  const keys = images.map((image) => ({ [TABLE.partitionKey]: taskId, [TABLE.sortKey]: image.imgId }));
  const stored = new Map<string, Item>();
  const [items, leftovers] = await Promise.all([
    getAll(ctx.db, ctx.table, keys, deadline, ctx.config.concurrency),
    leftUncounted(ctx, taskId, deadline),
  ]);
  for (const item of items) stored.set(item[TABLE.sortKey] as string, item);
  // A deleted image registered again comes back as a new image: the task's next order_id, unassigned.
  const wasDeleted = (imgId: string) => stored.get(imgId)?.deleted === true;
  const known = images.filter((image) => stored.has(image.imgId) && !wasDeleted(image.imgId));
  const fresh = images.filter((image) => !stored.has(image.imgId) || wasDeleted(image.imgId));
  const { raced, uncounted } =
    fresh.length > 0 ? await createImages(ctx, taskId, fresh, wasDeleted, deadline) : { raced: [], uncounted: [] };
  await settleCounts(ctx, taskId, [...leftovers, ...uncounted], deadline);
  const changed = known.filter((image) => {
    const item = stored.get(image.imgId) as Item;
    return Object.entries(givenFields(image)).some(([field, value]) => item[field] !== value);
  });
  await forEachLimited([...changed, ...raced], ctx.config.concurrency, (image) =>
    updateImage(ctx, taskId, image, deadline),
  );
  const task = await readTask(ctx, taskId, deadline);
  const added = fresh.length - raced.length;
  const updated = changed.length + raced.length;
  return { taskId, added, updated, unchanged: images.length - added - updated, total: task?.image_count ?? 0 };
}

/**
 * Creates `images` (none of them stored when looked up), in request order of order_id, its
 * transactions in parallel. Returns those another registration created first (their order_ids are
 * left as holes and they are updated instead) and what the task's counts do not hold yet.
 */
async function createImages(
  ctx: StoreContext,
  taskId: string,
  images: ImageInput[],
  wasDeleted: (imgId: string) => boolean,
  deadline: number,
) {
  const first = await allocateOrderIds(ctx, taskId, images.length, deadline);
  const raced: ImageInput[] = [];
  const uncounted: Uncounted[] = [];
  // Each transaction is due at its share of the time left, so one that falls behind under
  // throttling retries sooner than the writers ahead of theirs (retryDelayMs, lib/store/client.ts).
  const start = Date.now();
  const batches = chunk(
    images.map((image, i) => ({ image, orderId: first + i, revived: wasDeleted(image.imgId) })),
    CREATES_PER_TRANSACTION,
  ).map((creations, i, all) => ({
    creations,
    dueBy: start + (SCHEDULE_SHARE * (deadline - start) * (i + 1)) / all.length,
  }));
  await forEachLimited(batches, CREATIONS_AT_ONCE, async ({ creations, dueBy }) => {
    let pending = creations;
    while (pending.length > 0) {
      const lost = await createBatch(ctx, taskId, pending, deadline, dueBy);
      raced.push(...lost.map((entry) => entry.image));
      if (lost.length === 0) uncounted.push(uncountedOf(pending));
      pending = lost.length === 0 ? [] : pending.filter((entry) => !lost.includes(entry));
    }
  });
  return { raced, uncounted };
}

/** `revived`: the image is stored deleted, and is put back only if it still is. */
type Creation = { image: ImageInput; orderId: number; revived: boolean };

const uncountedOf = (batch: readonly Creation[]): Uncounted => ({
  first: Math.min(...batch.map((creation) => creation.orderId)),
  added: batch.length,
  revived: batch.filter((creation) => creation.revived).length,
});

/**
 * One transaction: the conditional puts, the creation record and the counting marker. Returns the
 * creations refused because the image exists.
 */
async function createBatch(ctx: StoreContext, taskId: string, batch: Creation[], deadline: number, dueBy: number) {
  const command = new TransactWriteCommand({
    // Fixed for this content, so a retry of a transaction whose answer was lost is not applied twice.
    ClientRequestToken: randomUUID(),
    TransactItems: [
      ...batch.map(({ image, orderId, revived }) => ({
        Put: {
          TableName: ctx.table,
          Item: {
            [TABLE.partitionKey]: taskId,
            [TABLE.sortKey]: image.imgId,
            state: 0,
            ...givenFields(image),
            order_id: orderId,
            [TABLE.orderIndex.partitionKey]: orderBlockKey(taskId, orderBlockOf(orderId)),
          },
          // The whole item is replaced: the `deleted` mark goes, the old order_id stays a tombstone's.
          ...(revived
            ? { ConditionExpression: "deleted = :true", ExpressionAttributeValues: { ":true": true } }
            : { ConditionExpression: "attribute_not_exists(#sk)", ExpressionAttributeNames: { "#sk": TABLE.sortKey } }),
        },
      })),
      {
        Put: {
          TableName: ctx.table,
          Item: creationRecord(
            taskId,
            batch.map((creation) => creation.orderId),
          ),
        },
      },
      { Put: { TableName: ctx.table, Item: countingMarker(taskId, uncountedOf(batch)) } },
    ],
  });
  try {
    await retrying(deadline, () => ctx.db.send(command), dueBy);
    return [];
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    const lost = batch.filter((_, i) => reasons[i]?.Code === "ConditionalCheckFailed");
    if (lost.length === 0) throw error;
    return lost;
  }
}

/** Sets the fields given on a stored image; one that has vanished meanwhile is left alone. */
async function updateImage(ctx: StoreContext, taskId: string, image: ImageInput, deadline: number) {
  const fields = Object.entries(givenFields(image));
  try {
    await retrying(deadline, () =>
      ctx.db.send(
        new UpdateCommand({
          TableName: ctx.table,
          Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: image.imgId },
          UpdateExpression: `SET ${fields.map((_, i) => `#f${i} = :v${i}`).join(", ")}`,
          // A deleted image is not updated: it stays deleted until registered again.
          ConditionExpression: "attribute_exists(#sk) AND attribute_not_exists(deleted)",
          ExpressionAttributeNames: {
            "#sk": TABLE.sortKey,
            ...Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name])),
          },
          ExpressionAttributeValues: Object.fromEntries(fields.map(([, value], i) => [`:v${i}`, value])),
        }),
      ),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
