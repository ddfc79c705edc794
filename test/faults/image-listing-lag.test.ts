import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import type { Image, ImageCursor } from "../../lib/model.ts";
import { documentClient } from "../../lib/store/client.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { TABLE, TASK_ITEM_SK } from "../../lib/store/table.ts";
import { useFaultProxy } from "../support/fault-proxy/index.ts";
import { freshStore, imageId, localClient, registerImages } from "../support/store.ts";

/**
 * The image listing under the order index's lag: like a set listing, it never ends short of an
 * image whose registration has answered. It waits for the index, then answers 503; the holes
 * registration leaves in the order_ids (a lost allocation answer, the loser of two creations) are
 * not waited for.
 */
const proxy = useFaultProxy();

async function listAll(store: Store, taskId: string, limit: number, deadline?: number): Promise<Image[]> {
  const images: Image[] = [];
  let cursor: ImageCursor | undefined;
  do {
    const page = await store.listImages({ taskId, imgId: undefined, limit, cursor }, deadline);
    images.push(...page.images);
    cursor = page.nextCursor;
  } while (cursor);
  return images;
}

/**
 * Runs `work` while the index hides what was registered under lag (however long registering took on
 * this machine), and lets it catch up 300 ms later, inside the listing's wait.
 */
async function whileLagging<T>(work: () => Promise<T>): Promise<T> {
  proxy().indexLagMs = 60_000;
  const caughtUp = setTimeout(() => {
    proxy().indexLagMs = 0;
  }, 300);
  try {
    return await work();
  } finally {
    clearTimeout(caughtUp);
    proxy().indexLagMs = 600;
  }
}

const orderIds = (images: Image[]) => images.map((image) => image.order_id);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("the image listing under index lag", () => {
  it("waits for images the index does not show yet: every registered image is listed, in one page or in many", async () => {
    const { config } = await freshStore();
    const store = createStore({ ...config, endpoint: proxy().endpoint });
    const taskId = "lag-listing";
    proxy().indexLagMs = 600;

    await registerImages(store, taskId, 300);
    // From the middle of the last registration transaction's order_ids (295 to 300).
    const fromTheMiddle = await whileLagging(() =>
      store.listImages({
        taskId,
        imgId: undefined,
        limit: 1000,
        cursor: { taskId, version: 0, token: "", n: 0, after: 297 },
      }),
    );
    const onePage = await whileLagging(() => listAll(store, taskId, 1000));
    await registerImages(store, taskId, 100, 301);
    const manyPages = await whileLagging(() => listAll(store, taskId, 37));

    expect(orderIds(fromTheMiddle.images)).toEqual([298, 299, 300]);
    expect(orderIds(onePage)).toEqual(oneTo(300));
    expect(orderIds(manyPages)).toEqual(oneTo(400));
  });

  it("answers 503 rather than a short listing when the index lags past the wait", async () => {
    const { config } = await freshStore({ indexWaitMs: 200 });
    const store = createStore({ ...config, endpoint: proxy().endpoint });
    const taskId = "long-lag";
    await registerImages(store, taskId, 50);
    proxy().indexLagMs = 60_000;
    await registerImages(store, taskId, 50, 51);

    const first = await store.listImages({ taskId, imgId: undefined, limit: 40, cursor: undefined });
    const second = await store
      .listImages({ taskId, imgId: undefined, limit: 40, cursor: first.nextCursor })
      .catch((error: unknown) => error);

    expect(orderIds(first.images)).toEqual(oneTo(40));
    expect(second).toMatchObject({ code: 1500, status: 503, retryAfter: 1 });
  });

  it("does not wait for holes or deleted images: a lost allocation, the loser of two creations, a deletion", async () => {
    // No lag, and (almost) no patience: waiting for anything not there would answer 503.
    const { store, config } = await freshStore({ indexWaitMs: 1 });
    const taskId = "holes";
    await registerImages(store, taskId, 20);
    // An allocation whose answer was lost: its order_ids are given to no image.
    await documentClient(localClient()).send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: TASK_ITEM_SK },
        UpdateExpression: "ADD next_order :n",
        ExpressionAttributeValues: { ":n": 5 },
      }),
    );
    // Two registrations of the same new images at once: one creates each, the other leaves holes,
    // between the new images of its own it creates.
    const image = (i: number) => ({ imgId: imageId(taskId, i), imgName: `img_${i}.jpg` });
    const same = Array.from({ length: 30 }, (_, i) => image(100 + i));
    const interleaved = same.flatMap((shared, i) => [shared, image(200 + i)]);
    const other = createStore(config);
    const [, second] = await Promise.all([
      store.registerImages({ taskId, images: same }),
      other.registerImages({ taskId, images: interleaved }),
    ]);
    await store.deleteImages({ taskId, imgIds: [imageId(taskId, 3), imageId(taskId, 100)] });

    const listed = await listAll(store, taskId, 7);

    expect(second.added).toBeGreaterThanOrEqual(30);
    expect(listed).toHaveLength(20 - 1 + 30 - 1 + 30);
    expect(new Set(listed.map((image) => image.img_id)).size).toBe(listed.length);
    expect(listed.map((image) => image.img_id)).not.toContain(imageId(taskId, 3));
  });
});
