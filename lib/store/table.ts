/**
 * The one table, described once for the CDK stack, the local server and the test tools.
 *
 * Items under one partition key (`task_id`):
 * - one per image, sort key = img_id: img_name, state, order_id, optional label and group, and the
 *   order index key `order_block`;
 * - the task item, sort key TASK_ITEM_SK: the order_id allocation counter, the image count, the live
 *   split and the retained ones;
 * - per deleted image, a tombstone (sort key `#deleted#<order_id>`, see tombstoneKey);
 * - per registration transaction that created images, a creation record (sort key
 *   `#created#<first order_id>`, see creationKey), and until its images are counted, a counting
 *   marker (`#counting#<first order_id>`, see countingKey);
 * - snapshot chunks of each split, sort key `#split#<version>#<token>#<chunk>`, and one small run
 *   item per split attempt, sort key `#run#<version>#<token>`;
 * - the task's schedule, `#schedule`, and one record per scheduled run, `#schedule#run#<time>`
 *   (lib/store/schedules.ts).
 * Every reserved sort key starts with '#', which no img_id can hold and which sorts below every
 * id character: a Query for `img_id > TASK_ITEM_SK` returns the images only.
 */
export const TABLE = {
  partitionKey: "task_id",
  sortKey: "img_id",
  /** Images by registration order: partition `task_id#block`, sort `order_id`. Written by registration only. */
  orderIndex: { indexName: "by-order", partitionKey: "order_block", sortKey: "order_id" },
  /** Non-key attributes a listing needs; the order index projects only these (img_id comes as a table key). */
  projectedAttributes: ["img_name", "state", "label", "group"],
  /** The TTL attribute (epoch seconds): only retired or dead snapshot items ever carry it. */
  expiryAttribute: "expires_at",
} as const;

export const TASK_ITEM_SK = "#task";

/**
 * Order ids per order-index partition. 10,000 images of ~100 bytes are ~1 MB: a page of the
 * 70% set reads one or two blocks, one of the 10% set about five, each block well inside one
 * partition's 3,000 RCU/s even when many readers page at once.
 */
export const ORDER_BLOCK = 10_000;

export const orderBlockOf = (orderId: number): number => Math.floor((orderId - 1) / ORDER_BLOCK);

/** The order-index partition key of one block of a task. */
export const orderBlockKey = (taskId: string, block: number): string => `${taskId}#${block}`;

const pad = (n: number) => String(n).padStart(10, "0");

/** Sort key of one chunk of a split's snapshot; versions and chunks zero-padded so keys sort numerically. */
export const chunkKey = (version: number, token: string, chunk: number): string =>
  `#split#${pad(version)}#${token}#${pad(chunk)}`;

/** Sort key of the run item a split writes before its chunks, so a later split can find and expire them. */
export const runKey = (version: number, token: string): string => `#run#${pad(version)}#${token}`;

export const TOMBSTONE_PREFIX = "#deleted#";

/**
 * Sort key of the tombstone of one deleted image's order_id (an order_id is never given out again,
 * so it stays deleted for good), written in the deletion's transaction. A reader that misses an
 * order_id in the index reads its tombstone to tell a deleted image from a lagging index; one item
 * per order_id, so neither the deletion nor that read grows with the other deletions.
 */
export const tombstoneKey = (orderId: number): string => `${TOMBSTONE_PREFIX}${pad(orderId)}`;

/** The order_id a `<prefix><order_id>` sort key names (a tombstone's, a creation record's, a counting marker's). */
export const orderIdIn = (prefix: string, sortKey: string): number => Number(sortKey.slice(prefix.length));

export const CREATION_PREFIX = "#created#";

/**
 * Sort key of the creation record of the registration transaction whose first new image has
 * `firstOrderId` (lib/store/creations.ts): an image listing reads these records to tell an order_id
 * the index does not show yet from a hole.
 */
export const creationKey = (firstOrderId: number): string => `${CREATION_PREFIX}${pad(firstOrderId)}`;

export const COUNTING_PREFIX = "#counting#";

/**
 * Sort key of the marker a registration transaction writes beside its creation record: its images
 * are not yet in the task's counts (lib/store/counting.ts). Deleted when they are.
 */
export const countingKey = (firstOrderId: number): string => `${COUNTING_PREFIX}${pad(firstOrderId)}`;
