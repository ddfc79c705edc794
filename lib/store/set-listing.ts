import { ServiceError } from "../errors.ts";
import {
  type ImageInfo,
  type PageBudget,
  type SetCursor,
  type SetPage,
  type SetQuery,
  UNLIMITED_PAGE,
} from "../model.ts";
import { readByOrder } from "./images.ts";
import { CHUNK_IMAGES, type Chunk, chunkCount, chunkOf, walkSet } from "./snapshot.ts";
import { readChunks, type SnapshotRef } from "./snapshots.ts";
import { readTask, type StoreContext } from "./task-item.ts";

/** Chunks read at once while walking a sparse set. */
const MAX_CHUNKS_A_READ = 8;

/**
 * One page of one set (docs/design.md "A listing"): the live snapshot (or the cursor's), walked from the
 * cursor for the set's next order_ids, whose images are read from the order index. A cursor keeps
 * reading its own snapshot for as long as that is retained; once its chunks are gone, 1015.
 */
export async function listSet(
  ctx: StoreContext,
  query: SetQuery,
  deadline: number,
  budget: PageBudget<SetCursor> = UNLIMITED_PAGE,
): Promise<SetPage> {
  const { taskId, setType, limit, cursor } = query;
  const start = cursor ?? (await firstPage(ctx, query, deadline));
  if (start.position >= start.size) {
    throw new ServiceError(1012, {}, { detail: "this cursor is past the end of its set" });
  }
  const ref: SnapshotRef = { version: start.version, token: start.token, n: start.n, chunks: chunkCount(start.n) };

  // Deleted members are dropped (they are in the snapshot, no longer in the index): walk on until
  // the page is full, the set or the snapshot ends, or the answer cap is reached. The cap counts the
  // answer as Lambda carries it, with room for the longest cursor this walk can give (position
  // below size, after below n).
  const longestCursor = { ...start, setType, position: start.size - 1, after: start.n - 1 };
  const images: ImageInfo[] = [];
  let bytes = budget.emptyBytes(taskId, longestCursor);
  let position = start.position;
  let after = start.after;
  let full = false;
  let walkedToEnd = false;
  while (!full && !walkedToEnd && images.length < limit && position < start.size) {
    const walkFrom = { ...start, position, after };
    const want = Math.min(limit - images.length, start.size - position);
    const orderIds = await nextMembers(ctx, walkFrom, ref, want, deadline);
    // Fewer members than asked for: the snapshot has no more (a cursor's size can claim more than its set holds).
    walkedToEnd = orderIds.length < want;
    if (orderIds.length === 0) break;
    const found = await readByOrder(ctx, taskId, orderIds, deadline);
    for (let i = 0; i < orderIds.length; i++) {
      const image = found[i];
      if (image) {
        const size = budget.imageBytes(image, images.length === 0);
        if (bytes + size > budget.maxBytes && images.length > 0) {
          full = true;
          break;
        }
        bytes += size;
        images.push(image);
      }
      position++;
      after = orderIds[i] as number;
    }
  }
  if (images.length === 0 && !cursor) {
    throw new ServiceError(
      1010,
      { task_id: taskId, set_type_id: setType },
      { detail: `every image of set ${setType} of task ${taskId} in split version ${start.version} was deleted` },
    );
  }
  const more = full || (!walkedToEnd && position < start.size && after < start.n);
  const nextCursor: SetCursor | undefined = more && after > 0 ? { ...start, setType, position, after } : undefined;
  return { taskId, images, nextCursor };
}

/** Where the first page starts: the live split, read strongly consistent; 1010 when the set is empty. */
async function firstPage(ctx: StoreContext, { taskId, setType }: SetQuery, deadline: number): Promise<SetCursor> {
  const live = (await readTask(ctx, taskId, deadline))?.live;
  const size = live?.achieved[setType] ?? 0;
  if (!live || size === 0) {
    const detail = live
      ? `set ${setType} of task ${taskId} is empty in split version ${live.version}`
      : `task ${taskId} has not been split (or has no images)`;
    throw new ServiceError(1010, { task_id: taskId, set_type_id: setType }, { detail });
  }
  return { taskId, setType, version: live.version, token: live.token, n: live.n, size, position: 0, after: 0 };
}

/** The set's next `count` order_ids after the cursor, reading only the chunks the walk reaches. */
async function nextMembers(ctx: StoreContext, from: SetCursor, ref: SnapshotRef, count: number, deadline: number) {
  const orderIds: number[] = [];
  let after = from.after;
  let next = chunkOf(after + 1);
  const density = from.size / Math.max(1, from.n);
  while (orderIds.length < count && next < ref.chunks) {
    const needed = (count - orderIds.length) / density;
    const span = Math.min(MAX_CHUNKS_A_READ, Math.max(1, Math.ceil(needed / CHUNK_IMAGES)));
    const chunks: Chunk[] = await readChunks(
      ctx,
      from.taskId,
      ref,
      next,
      Math.min(ref.chunks - 1, next + span - 1),
      deadline,
    );
    const walked = walkSet(chunks, from.setType, after, count - orderIds.length);
    orderIds.push(...walked.orderIds);
    after = walked.orderIds.at(-1) ?? after;
    next += chunks.length;
  }
  return orderIds;
}
