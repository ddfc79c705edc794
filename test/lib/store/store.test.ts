import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { setPageBudget } from "../../../lib/http/answers.ts";
import { DEFAULT_SPLIT_OPTIONS } from "../../../lib/model.ts";
import { documentClient } from "../../../lib/store/client.ts";
import { createStore } from "../../../lib/store/index.ts";
import { CHUNK_IMAGES } from "../../../lib/store/snapshot.ts";
import { chunkKey, TABLE, TASK_ITEM_SK } from "../../../lib/store/table.ts";
import {
  codeOf,
  counts,
  expectCompleteSplit,
  freshStore,
  imageId,
  localClient,
  readWholeSet,
  registerImages,
  registrationOrder,
  seedImages,
  split,
} from "../../support/store.ts";

const db = documentClient(localClient());

/** Every reserved item of a task (task item, runs, chunks) with its sort key and expiry. */
async function reservedItems(tableName: string, taskId: string) {
  const out = await db.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "task_id = :t AND img_id < :end",
      ExpressionAttributeValues: { ":t": taskId, ":end": "$" },
      ProjectionExpression: "img_id, expires_at",
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []) as { img_id: string; expires_at?: number }[];
}

describe("registration", () => {
  it("gives new images order_ids 1, 2, 3 … in request order and keeps them on re-registration", async () => {
    // Arrange
    const { store } = await freshStore();
    const taskId = "2018062212345678911";

    // Act
    const first = await store.registerImages({
      taskId,
      images: [
        { imgId: "2018072080042233351", imgName: "img_拓海_1.png", state: 0 },
        { imgId: "2018072084092101478", imgName: "img_1.jpg", state: 0 },
      ],
    });
    const second = await store.registerImages({
      taskId,
      images: [
        { imgId: "2018072067241762338", imgName: "img_2.jpg", state: 1 },
        { imgId: "2018072080042233351", imgName: "img_拓海_1_renamed.png", state: 2 },
      ],
    });

    // Assert
    expect(first).toEqual({ taskId, added: 2, updated: 0, unchanged: 0, total: 2 });
    expect(second).toEqual({ taskId, added: 1, updated: 1, unchanged: 0, total: 3 });
    const again = await store.registerImages({
      taskId,
      images: [
        { imgId: "2018072067241762338", imgName: "img_2.jpg", state: 1 },
        { imgId: "2018072084092101478", imgName: "img_1.jpg" },
        { imgId: "2018072080042233351", imgName: "img_拓海_1_renamed.png", state: 3 },
      ],
    });
    expect(again).toEqual({ taskId, added: 0, updated: 1, unchanged: 2, total: 3 });
    await store.registerImages({
      taskId,
      images: [{ imgId: "2018072080042233351", imgName: "img_拓海_1_renamed.png", state: 2 }],
    });
    await split(store, { taskId, counts: counts(3, 0, 0), seed: "s" });
    expect(await readWholeSet(store, taskId, 0)).toEqual([
      { img_name: "img_拓海_1_renamed.png", img_id: "2018072080042233351", state: 2, order_id: 1 },
      { img_name: "img_1.jpg", img_id: "2018072084092101478", state: 0, order_id: 2 },
      { img_name: "img_2.jpg", img_id: "2018072067241762338", state: 1, order_id: 3 },
    ]);
  });

  it("keeps a known image's state, label and group when a registration leaves them out", async () => {
    const { store, config } = await freshStore();
    const taskId = "task-omitted";
    await store.registerImages({
      taskId,
      images: [{ imgId: "a1", imgName: "a.png", state: 3, label: "cat", group: "p1" }],
    });

    await store.registerImages({ taskId, images: [{ imgId: "a1", imgName: "a-renamed.png" }] });

    const item = await db.send(
      new GetCommand({ TableName: config.tableName, Key: { task_id: taskId, img_id: "a1" }, ConsistentRead: true }),
    );
    expect(item.Item).toMatchObject({ img_name: "a-renamed.png", state: 3, label: "cat", group: "p1", order_id: 1 });
  });

  it("leaves an image's set assignment untouched when it is registered again, and a split writes no image item", async () => {
    const { store, config } = await freshStore();
    const taskId = "task-reregister";
    await registerImages(store, taskId, 20);
    const before = await db.send(
      new GetCommand({ TableName: config.tableName, Key: { task_id: taskId, img_id: imageId(taskId, 5) } }),
    );
    const first = await split(store, { taskId, counts: counts(10, 5, 5), seed: "x" });

    await registerImages(store, taskId, 20);

    const after = await db.send(
      new GetCommand({ TableName: config.tableName, Key: { task_id: taskId, img_id: imageId(taskId, 5) } }),
    );
    expect(after.Item).toEqual(before.Item);
    await expectCompleteSplit(store, first, registrationOrder(taskId));
  });

  it("two registrations of overlapping new images at once give every image one order_id, and the next split sees them all", async () => {
    const { store, config } = await freshStore();
    const taskId = "task-overlap";
    const images = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({ imgId: imageId(taskId, from + i), imgName: `n${from + i}` }));

    const [a, b] = await Promise.all([
      store.registerImages({ taskId, images: images(1, 300) }),
      store.registerImages({ taskId, images: images(151, 450) }),
    ]);

    expect(a.added + b.added).toBe(450);
    const all = await store.readImages(taskId);
    expect(all).toHaveLength(450);
    expect(new Set(all.map((image) => image.orderId)).size).toBe(450);
    const task = await db.send(
      new GetCommand({ TableName: config.tableName, Key: { task_id: taskId, img_id: TASK_ITEM_SK } }),
    );
    expect(task.Item?.image_count).toBe(450);
    const result = await split(store, { taskId, counts: counts(450, 0, 0), seed: "all" });
    expect(result.drawn[0]).toHaveLength(450);
  });
});

describe("splitting", () => {
  it("answers 1003 for a task without images and 1007 when the counts exceed the images", async () => {
    const { store } = await freshStore();
    expect(await codeOf(split(store, { taskId: "nothing-here", counts: counts(1, 0, 0), seed: undefined }))).toBe(1003);
    await registerImages(store, "small", 5);
    expect(await codeOf(split(store, { taskId: "small", counts: counts(4, 1, 1), seed: undefined }))).toBe(1007);
  });

  it("gives exactly the requested sizes, disjoint sets and unassigned leftovers (guarantee 1)", async () => {
    const { store } = await freshStore();
    const taskId = "task-sizes";
    await registerImages(store, taskId, 100);

    const result = await split(store, { taskId, counts: counts(60, 20, 10), seed: undefined });

    expect([result.drawn[0].length, result.drawn[2].length, result.drawn[1].length]).toEqual([60, 20, 10]);
    expect(result.unassignedCount).toBe(10);
    expect(result.version).toBe(1);
    await expectCompleteSplit(store, result, registrationOrder(taskId));
  });

  it("reproduces a split from its seed, and a re-split replaces the previous one completely", async () => {
    const { store } = await freshStore();
    const taskId = "task-seed";
    await registerImages(store, taskId, 50);
    const first = await split(store, { taskId, counts: counts(30, 10, 10), seed: "same" });
    const other = await split(store, { taskId, counts: counts(20, 5, 5), seed: "other" });
    await expectCompleteSplit(store, other, registrationOrder(taskId));

    const again = await split(store, { taskId, counts: counts(30, 10, 10), seed: "same" });

    expect(again.drawn).toEqual(first.drawn);
    expect([first.version, other.version, again.version]).toEqual([1, 2, 3]);
    await expectCompleteSplit(store, again, registrationOrder(taskId));
  });

  it("writes a snapshot of a few chunk items, not an item per image, and a dry run writes nothing", async () => {
    const { store, config } = await freshStore();
    const taskId = "task-chunks";
    const n = CHUNK_IMAGES + 500;
    await seedImages(config, taskId, n);

    const dry = await split(store, { taskId, counts: counts(100, 0, 0), seed: undefined, options: dryRunOptions });
    expect(dry.version).toBe(0);
    expect((await reservedItems(config.tableName, taskId)).map((item) => item.img_id)).toEqual([TASK_ITEM_SK]);

    const result = await split(store, { taskId, counts: counts(n - 10, 5, 5), seed: "c" });
    const keys = (await reservedItems(config.tableName, taskId)).map((item) => item.img_id);
    expect(keys.filter((key) => key.startsWith("#split#"))).toHaveLength(2);
    expect(keys.filter((key) => key.startsWith("#run#"))).toHaveLength(1);
    await expectCompleteSplit(store, result, registrationOrder(taskId));
  });

  it("images registered after a split are unassigned in it, and the summary counts them as unassigned now", async () => {
    const { store } = await freshStore();
    const taskId = "task-summary";
    await registerImages(store, taskId, 30);
    await split(store, { taskId, counts: counts(20, 5, 0), seed: "s" });

    await registerImages(store, taskId, 7, 31);

    const summary = await store.taskSummary(taskId);
    expect(summary.imageCount).toBe(37);
    expect(summary.unassignedCount).toBe(12);
    expect(summary.live?.unassigned).toBe(5);
    const next = await split(store, { taskId, counts: counts(37, 0, 0), seed: "t" });
    expect(next.drawn[0]).toHaveLength(37);
  });

  it("answers 503 on a task item written by a layout this code does not know", async () => {
    const { store, config } = await freshStore();
    await registerImages(store, "task-layout", 3);
    await db.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: { task_id: "task-layout", img_id: TASK_ITEM_SK },
        UpdateExpression: "SET layout = :future",
        ExpressionAttributeValues: { ":future": 99 },
      }),
    );

    const failure = await split(store, { taskId: "task-layout", counts: counts(1, 0, 0), seed: undefined }).catch(
      (e) => e,
    );
    expect(failure).toMatchObject({ code: 1500, status: 503 });
    expect(
      await store.listSet({ taskId: "task-layout", setType: 0, limit: 10, cursor: undefined }).catch((e) => e),
    ).toMatchObject({
      code: 1500,
      status: 503,
    });
  });
});

describe("expiry of snapshots", () => {
  it("the live and retained snapshots never carry an expiry; a lost attempt's and a retired one's do", async () => {
    const { store, config } = await freshStore();
    const taskId = "task-expiry";
    await registerImages(store, taskId, 40);
    const first = await split(store, { taskId, counts: counts(20, 10, 10), seed: "a" });
    // An attempt that wrote its snapshot and died before publishing, at the next version.
    const dead = { ...(await store.taskSummary(taskId)).live!, version: 2, token: "dead00", n: 40, chunks: 1 };
    await store.writeSnapshot(taskId, dead, [{ index: 0, codes: new Uint8Array(10), counts: [0, 0, 0] }]);

    const second = await split(store, { taskId, counts: counts(10, 5, 5), seed: "b" });

    const items = await reservedItems(config.tableName, taskId);
    const expiring = items.filter((item) => item.expires_at !== undefined).map((item) => item.img_id);
    expect(expiring.sort()).toEqual([chunkKey(2, "dead00", 0), "#run#0000000002#dead00"].sort());
    const grace = items.find((item) => item.expires_at !== undefined)?.expires_at as number;
    expect(grace * 1000 - Date.now()).toBeGreaterThan((config.snapshotGraceSeconds - 60) * 1000);
    expect(second.version).toBe(2);
    expect(first.version).toBe(1);
  });

  it("retires the snapshot that falls out of the last 20 and keeps the 20", async () => {
    const { store, config } = await freshStore();
    const taskId = "task-retire";
    await registerImages(store, taskId, 10);
    for (let i = 0; i < 21; i++) await split(store, { taskId, counts: counts(5, 2, 2), seed: `s${i}` });

    const items = await reservedItems(config.tableName, taskId);
    const expiringVersions = new Set(
      items.filter((item) => item.expires_at !== undefined).map((item) => Number(item.img_id.split("#")[2])),
    );
    expect([...expiringVersions]).toEqual([1]);
    const unexpired = items.filter((item) => item.img_id.startsWith("#split#") && item.expires_at === undefined);
    expect(unexpired).toHaveLength(20);
  });

  it("a snapshot just retired (out of the last 20) stays readable through its grace period: its cursor pages on to the end", async () => {
    // Arrange: a cursor on version 1, then 20 more splits retire version 1 (its expiry set, an hour ahead)
    const { store, config } = await freshStore();
    const taskId = "task-retired";
    await registerImages(store, taskId, 30);
    const first = await split(store, { taskId, counts: counts(20, 5, 5), seed: "r0" });
    const page = await store.listSet({ taskId, setType: 0, limit: 5, cursor: undefined });
    for (let i = 1; i <= 20; i++) await split(store, { taskId, counts: counts(10, 5, 5), seed: `r${i}` });
    const retired = (await reservedItems(config.tableName, taskId)).filter((item) =>
      item.img_id.startsWith(`#split#${"1".padStart(10, "0")}#`),
    );
    expect(retired.length).toBeGreaterThan(0);
    for (const chunk of retired) expect(chunk).toHaveProperty(TABLE.expiryAttribute);

    // Act: page on at once
    const rest: string[] = [];
    let cursor = page.nextCursor;
    while (cursor) {
      const next = await store.listSet({ taskId, setType: 0, limit: 5, cursor });
      rest.push(...next.images.map((image) => image.img_id));
      cursor = next.nextCursor;
    }

    // Assert
    const all = [...page.images.map((image) => image.img_id), ...rest];
    expect(all.sort()).toEqual([...first.drawn[0]].sort());
  });

  it("a reader whose snapshot's chunks are gone gets 1015, not 1500", async () => {
    const { store, config } = await freshStore();
    const taskId = "task-gone";
    await registerImages(store, taskId, 30);
    await split(store, { taskId, counts: counts(20, 5, 5), seed: "g" });
    const page = await store.listSet({ taskId, setType: 0, limit: 5, cursor: undefined });
    const chunks = (await reservedItems(config.tableName, taskId)).filter((item) => item.img_id.startsWith("#split#"));

    for (const chunk of chunks) {
      await db.send(new DeleteCommand({ TableName: config.tableName, Key: { task_id: taskId, img_id: chunk.img_id } }));
    }

    // A cold function: nothing cached.
    const reader = createStore(config);
    expect(await codeOf(reader.listSet({ taskId, setType: 0, limit: 5, cursor: page.nextCursor }))).toBe(1015);
    expect(await codeOf(reader.listSet({ taskId, setType: 0, limit: 5, cursor: undefined }))).toBe(1015);
  });
});

describe("listing", () => {
  it("pages a set across chunks and index blocks, each image once, in order_id order", async () => {
    const { store, config } = await freshStore();
    const taskId = "task-pages";
    const n = CHUNK_IMAGES + 3_000;
    await seedImages(config, taskId, n);
    const result = await split(store, { taskId, counts: counts(Math.floor(n * 0.1), 10, 10), seed: "p" });

    const listed = await readWholeSet(store, taskId, 0, 997);

    expect(listed.map((image) => image.img_id).sort()).toEqual([...result.drawn[0]].sort());
    const orders = listed.map((image) => image.order_id);
    expect(orders).toEqual([...orders].sort((a, b) => a - b));
    expect(orders.at(-1)).toBeGreaterThan(CHUNK_IMAGES);
  });

  it("answers 1010 for an empty set and for a task never split", async () => {
    const { store } = await freshStore();
    await registerImages(store, "task-empty", 10);
    expect(await codeOf(store.listSet({ taskId: "task-empty", setType: 0, limit: 10, cursor: undefined }))).toBe(1010);
    await split(store, { taskId: "task-empty", counts: counts(10, 0, 0), seed: undefined });
    expect(await codeOf(store.listSet({ taskId: "task-empty", setType: 1, limit: 10, cursor: undefined }))).toBe(1010);
  });

  it("a cursor keeps reading its own snapshot after re-splits", async () => {
    const { store } = await freshStore();
    const taskId = "task-cursor";
    await registerImages(store, taskId, 60);
    const first = await split(store, { taskId, counts: counts(40, 10, 10), seed: "one" });
    const page = await store.listSet({ taskId, setType: 0, limit: 15, cursor: undefined });

    await split(store, { taskId, counts: counts(10, 10, 10), seed: "two" });
    await split(store, { taskId, counts: counts(20, 10, 10), seed: "three" });

    const rest = await readRest(store, taskId, page.nextCursor);
    expect([...page.images, ...rest].map((image) => image.img_id).sort()).toEqual([...first.drawn[0]].sort());
  });

  it("ends a page early, with a cursor, when its answer would pass MAX_ANSWER_BYTES", async () => {
    const { store } = await freshStore();
    const taskId = "task-cap";
    await registerImages(store, taskId, 100);
    await split(store, { taskId, counts: counts(100, 0, 0), seed: "cap" });

    const budget = setPageBudget(0, 2_048 + 20 * 60);
    const page = await store.listSet({ taskId, setType: 0, limit: 100, cursor: undefined }, undefined, budget);

    expect(page.images.length).toBeGreaterThan(5);
    expect(page.images.length).toBeLessThan(30);
    expect(page.nextCursor?.position).toBe(page.images.length);
    const all = await readWholeSet(store, taskId, 0, 100);
    expect(all).toHaveLength(100);
  });
});

const dryRunOptions = { ...DEFAULT_SPLIT_OPTIONS, dryRun: true };

async function readRest(
  store: ReturnType<typeof createStore>,
  taskId: string,
  cursor: Parameters<typeof store.listSet>[0]["cursor"],
) {
  const images = [];
  let next = cursor;
  while (next) {
    const page = await store.listSet({ taskId, setType: 0, limit: 7, cursor: next });
    images.push(...page.images);
    next = page.nextCursor;
  }
  return images;
}
