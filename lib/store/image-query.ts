import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { ServiceError } from "../errors.ts";
import {
  type Image,
  type ImageCursor,
  type ImagePage,
  type ImageQuery,
  type PageBudget,
  type SetType,
  UNLIMITED_PAGE,
} from "../model.ts";
import type { Item } from "./batch.ts";
import { retrying } from "./client.ts";
import { notYetIndexed } from "./creations.ts";
import { indexWait, queryAll } from "./images.ts";
import { CREATES_PER_TRANSACTION } from "./register.ts";
import { type Chunk, chunkCount, chunkOf, codeAt } from "./snapshot.ts";
import { readChunks, type SnapshotRef } from "./snapshots.ts";
import { ORDER_BLOCK, orderBlockKey, orderBlockOf, TABLE } from "./table.ts";
import { readTask, type StoreContext, type TaskItem } from "./task-item.ts";

const noImage = (taskId: string, imgId: string) =>
  new ServiceError(
    1026,
    { task_id: taskId, img_id: imgId },
    { detail: `task ${taskId} has no image ${imgId} (never registered, or deleted)` },
  );

const noImages = (taskId: string) =>
  new ServiceError(
    1003,
    { task_id: taskId },
    { detail: `task ${taskId} has no images (none registered, or all deleted)` },
  );

const record = (item: Item, setType: number): Image => ({
  img_id: item[TABLE.sortKey] as string,
  img_name: item.img_name as string,
  state: item.state as number,
  order_id: item.order_id as number,
  label: (item.label as string | undefined) ?? null,
  group: (item.group as string | undefined) ?? null,
  set_type_id: setType >= 0 ? (setType as SetType) : null,
});

/** The set of `orderId` in the snapshot (-1: none, or beyond what it covers). */
const setIn = (chunks: ReadonlyMap<number, Chunk>, ref: SnapshotRef | undefined, orderId: number) => {
  if (!ref || orderId > ref.n) return -1;
  const chunk = chunks.get(chunkOf(orderId));
  return chunk ? codeAt(chunk, orderId) - 1 : -1;
};

const refOf = (task: TaskItem | undefined): SnapshotRef | undefined =>
  task?.live
    ? { version: task.live.version, token: task.live.token, n: task.live.n, chunks: task.live.chunks }
    : undefined;

/** One image (strongly consistent) with its set in the live split; 1026 when unknown or deleted. */
export async function getImage(ctx: StoreContext, taskId: string, imgId: string, deadline: number): Promise<Image> {
  const [out, task] = await Promise.all([
    retrying(deadline, () =>
      ctx.db.send(
        new GetCommand({
          TableName: ctx.table,
          Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: imgId },
          ConsistentRead: true,
        }),
      ),
    ),
    readTask(ctx, taskId, deadline),
  ]);
  const item = out.Item as Item | undefined;
  if (!item || item.deleted === true || typeof item.order_id !== "number") throw noImage(taskId, imgId);
  const ref = refOf(task);
  const orderId = item.order_id as number;
  const chunks = new Map<number, Chunk>();
  if (ref && orderId <= ref.n) {
    const index = chunkOf(orderId);
    for (const chunk of await readChunks(ctx, taskId, ref, index, index, deadline)) chunks.set(chunk.index, chunk);
  }
  return record(item, setIn(chunks, ref, orderId));
}

/**
 * One page of every image of a task in ascending order_id, read from the order index block by
 * block (a deleted image has lost its index key: the index is sparse; one deleted within the
 * index's lag, typically under a second, may still show), each with its set in the live snapshot,
 * or in the cursor's: once that snapshot's chunks are gone, 1015. An image the creation records
 * name that the index does not show yet is waited for (INDEX_WAIT_MS), then 503: a page never
 * ends short of a registered image. 1003 when the task has no images left.
 */
export async function listImages(
  ctx: StoreContext,
  query: ImageQuery,
  deadline: number,
  budget: PageBudget<ImageCursor> = UNLIMITED_PAGE,
): Promise<ImagePage> {
  const { taskId, limit } = query;
  const task = await readTask(ctx, taskId, deadline);
  if (!query.cursor && !task?.image_count) throw noImages(taskId);
  const start: ImageCursor = query.cursor ?? {
    taskId,
    version: task?.live?.version ?? 0,
    token: task?.live?.token ?? "",
    n: task?.live?.n ?? 0,
    after: 0,
  };
  const ref: SnapshotRef | undefined =
    start.version > 0
      ? { version: start.version, token: start.token, n: start.n, chunks: chunkCount(start.n) }
      : undefined;
  const nextOrder = task?.next_order ?? 0;

  const readAgain = indexWait(ctx, taskId, deadline);
  let items: Item[] = [];
  for (let attempt = 1; ; attempt++) {
    items = await readIndexFrom(ctx, taskId, start.after + 1, nextOrder, limit + 1, deadline);
    // What this page vouches for: up to its last image when another page follows, else to the task's end.
    const to = items.length > limit ? (items[limit - 1]?.order_id as number) : nextOrder;
    const listed = new Set(items.map((item) => item.order_id as number));
    const range = { from: start.after + 1, to, span: CREATES_PER_TRANSACTION };
    const lagging = await notYetIndexed(ctx, taskId, range, listed, deadline);
    if (lagging.length === 0) break;
    await readAgain(attempt, `order_ids ${lagging.slice(0, 5)}`);
  }

  const more = items.length > limit;
  const page = items.slice(0, limit);
  const chunks = new Map<number, Chunk>();
  const inSnapshot = page.filter((item) => ref && (item.order_id as number) <= ref.n);
  if (ref && inSnapshot.length > 0) {
    const first = chunkOf(inSnapshot[0]?.order_id as number);
    const last = chunkOf(inSnapshot.at(-1)?.order_id as number);
    for (const chunk of await readChunks(ctx, taskId, ref, first, last, deadline)) chunks.set(chunk.index, chunk);
  }
  // The cap counts the answer as Lambda carries it, with room for a cursor after the page's last image.
  const longestCursor = { ...start, after: (page.at(-1)?.order_id as number | undefined) ?? start.after };
  const images: Image[] = [];
  let bytes = budget.emptyBytes(taskId, longestCursor);
  for (const item of page) {
    const image = record(item, setIn(chunks, ref, item.order_id as number));
    const size = budget.imageBytes(image, images.length === 0);
    if (bytes + size > budget.maxBytes && images.length > 0) break;
    bytes += size;
    images.push(image);
  }
  const last = images.at(-1);
  const nextCursor = last && (more || images.length < page.length) ? { ...start, after: last.order_id } : undefined;
  return { taskId, images, nextCursor };
}

/** Up to `wanted` entries of the order index from order_id `from` on, block by block up to `nextOrder`'s block. */
async function readIndexFrom(
  ctx: StoreContext,
  taskId: string,
  from: number,
  nextOrder: number,
  wanted: number,
  deadline: number,
): Promise<Item[]> {
  const lastBlock = orderBlockOf(Math.max(1, nextOrder));
  const { indexName, partitionKey, sortKey } = TABLE.orderIndex;
  const items: Item[] = [];
  let next = from;
  while (items.length < wanted && orderBlockOf(next) <= lastBlock) {
    const block = orderBlockOf(next);
    const left = wanted - items.length;
    let taken = 0;
    const read = await queryAll(
      ctx,
      {
        TableName: ctx.table,
        IndexName: indexName,
        KeyConditionExpression: "#block = :block AND #order >= :from",
        ExpressionAttributeNames: { "#block": partitionKey, "#order": sortKey },
        ExpressionAttributeValues: { ":block": orderBlockKey(taskId, block), ":from": next },
        Limit: left,
      },
      deadline,
      () => taken++ >= left,
    );
    items.push(...read);
    // A block read short is done: on to the next one.
    next = read.length < left ? (block + 1) * ORDER_BLOCK + 1 : (read.at(-1)?.order_id as number) + 1;
  }
  return items;
}
