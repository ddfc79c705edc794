import {
  type DeleteResponse,
  type ImageInput,
  MAX_IDS_PER_DELETE,
  type TrainingSetsClient,
  TrainingSetsError,
  TrainingSetsNetworkError,
} from "../client/index.ts";
import { progress } from "./progress.ts";

/** Images per POST: the API's limit. */
const IMAGES_PER_REGISTER = 1000;

export const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/**
 * Sends `items` in order, `size` a request, with a progress bar; `add` folds each answer into the
 * totals. When a request fails, says which items it held and what `done` means for the earlier ones.
 */
async function inBatches<T, A>(
  items: readonly T[],
  size: number,
  label: string,
  send: (batch: T[]) => Promise<A>,
  add: (answer: A) => void,
  failed: (first: number, last: number, before: number) => string,
): Promise<void> {
  const bar = progress(label, items.length);
  try {
    for (let start = 0; start < items.length; start += size) {
      const batch = items.slice(start, start + size);
      try {
        add(await send(batch));
      } catch (error) {
        // The API names a field by its place in the request: say where that is in the input.
        if (error instanceof TrainingSetsError || error instanceof TrainingSetsNetworkError) {
          process.stderr.write(`${failed(start + 1, start + batch.length, start)}\n`);
        }
        throw error;
      }
      bar.update(start + batch.length);
    }
  } finally {
    bar.stop();
  }
}

/** Sends the ids in order, MAX_IDS_PER_DELETE a request, and prints the totals. */
export async function deleteImages(api: TrainingSetsClient, taskId: string, ids: string[]): Promise<void> {
  const totals = {
    task_id: taskId,
    deleted: 0,
    already_deleted: 0,
    not_found: [] as string[],
    total: 0,
    requests: 0,
  };
  await inBatches(
    ids,
    MAX_IDS_PER_DELETE,
    "deleting",
    (batch) => api.deleteImages({ task_id: taskId, img_ids: batch }),
    (answer: DeleteResponse) => {
      totals.deleted += answer.deleted;
      totals.already_deleted += answer.already_deleted;
      totals.not_found.push(...answer.not_found);
      totals.total = answer.total;
      totals.requests += 1;
    },
    (first, last, before) =>
      `the request with ids ${first}–${last} failed; ` +
      `ids 1–${before} are deleted${before > 0 ? " (a rerun is safe: they count as already_deleted)" : ""}`,
  );
  print(totals);
}

/** Sends the images in file order, IMAGES_PER_REGISTER a request, and prints the totals. */
export async function registerImages(api: TrainingSetsClient, taskId: string, images: ImageInput[]): Promise<void> {
  const totals = { task_id: taskId, added: 0, updated: 0, unchanged: 0, total: 0, requests: 0 };
  await inBatches(
    images,
    IMAGES_PER_REGISTER,
    "registering",
    (batch) => api.registerImages({ task_id: taskId, images: batch }),
    (answer) => {
      totals.added += answer.added;
      totals.updated += answer.updated;
      totals.unchanged += answer.unchanged;
      totals.total = answer.total;
      totals.requests += 1;
    },
    (first, last, before) =>
      `the request with images ${first}–${last} of the file failed; ` +
      `images 1–${before} are registered${before > 0 ? " (a rerun is safe)" : ""}`,
  );
  print(totals);
}
