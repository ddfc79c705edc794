import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { parseImagesQuery } from "../../../lib/http/queries.ts";
import { parseDeleteRequest } from "../../../lib/http/validate.ts";
import type { Image, ImageCursor, SetType } from "../../../lib/model.ts";
import { documentClient } from "../../../lib/store/client.ts";
import type { Store } from "../../../lib/store/index.ts";
import { chunkKey, TABLE, TASK_ITEM_SK, TOMBSTONE_PREFIX, tombstoneKey } from "../../../lib/store/table.ts";
import {
  codeOf,
  counts,
  freshStore,
  imageId,
  localClient,
  readWholeSet,
  registerImages,
  seedImages,
  split,
} from "../../support/store.ts";

const db = documentClient(localClient());

/** Every image of the task through the image listing, page by page. */
async function readAllListed(store: Store, taskId: string, limit = 5000): Promise<Image[]> {
  const images: Image[] = [];
  let cursor: ImageCursor | undefined;
  do {
    const page = await store.listImages({ taskId, imgId: undefined, limit, cursor });
    images.push(...page.images);
    cursor = page.nextCursor;
  } while (cursor);
  return images;
}

/** The ids of every set of the live split, read through the set listing. */
async function setsOf(store: Store, taskId: string): Promise<Record<SetType, string[]>> {
  const ids = async (setType: SetType) => (await readWholeSet(store, taskId, setType)).map((image) => image.img_id);
  return { 0: await ids(0), 1: await ids(1), 2: await ids(2) };
}

/** Ids of images registered in index order (zero-padded): their order_id order is their code-unit order. */
const byOrder = (list: string[]) => [...list].sort();

const ids = (task: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => imageId(task, from + k));

async function storedItem(tableName: string, taskId: string, sortKey: string) {
  const out = await db.send(
    new GetCommand({ TableName: tableName, Key: { task_id: taskId, img_id: sortKey }, ConsistentRead: true }),
  );
  return out.Item;
}

/** The sort keys of the task's tombstones, in key order (strongly consistent). */
async function tombstonesOf(tableName: string, taskId: string): Promise<string[]> {
  const out = await db.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "task_id = :t AND begins_with(img_id, :prefix)",
      ExpressionAttributeValues: { ":t": taskId, ":prefix": TOMBSTONE_PREFIX },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((item) => item.img_id as string);
}

describe("GET one image", () => {
  it("answers the stored fields, label and group null when absent, and the image's set in the live split", async () => {
    // Arrange
    const { store } = await freshStore();
    const taskId = "lookup";
    await store.registerImages({
      taskId,
      images: [
        { imgId: "a1", imgName: "a.jpg", state: 2, label: "cat", group: "p1" },
        { imgId: "b2", imgName: "b.jpg" },
        { imgId: "c3", imgName: "c.jpg", label: "dog" },
      ],
    });

    // Act
    const before = await store.getImage(taskId, "a1");
    const result = await split(store, { taskId, counts: counts(1, 1, 1), seed: "s" });
    const after = await Promise.all(["a1", "b2", "c3"].map((imgId) => store.getImage(taskId, imgId)));

    // Assert
    expect(before).toEqual({
      img_id: "a1",
      img_name: "a.jpg",
      state: 2,
      order_id: 1,
      label: "cat",
      group: "p1",
      set_type_id: null,
    });
    expect(after[1]).toMatchObject({ img_id: "b2", state: 0, order_id: 2, label: null, group: null });
    for (const image of after) {
      const setType = ([0, 1, 2] as const).find((t) => result.drawn[t].includes(image.img_id));
      expect(image.set_type_id).toBe(setType);
    }
  });

  it("is 1026 for an image never registered, of another task, or deleted; 1003 deleting in a task without images", async () => {
    // Arrange
    const { store } = await freshStore();
    await store.registerImages({
      taskId: "t1",
      images: [
        { imgId: "x", imgName: "x.jpg" },
        { imgId: "y", imgName: "y" },
      ],
    });
    await store.deleteImages({ taskId: "t1", imgIds: ["y"] });

    // Act
    const codes = await Promise.all([
      codeOf(store.getImage("t1", "nope")),
      codeOf(store.getImage("t2", "x")),
      codeOf(store.getImage("t1", "y")),
      codeOf(store.getImage("t1", "x")),
      codeOf(store.deleteImages({ taskId: "t2", imgIds: ["x"] })),
    ]);

    // Assert
    expect(codes).toEqual([1026, 1026, 1026, 0, 1003]);
    const error = await store.getImage("t1", "y").catch((e: unknown) => e as { message: string; status: number });
    expect(error).toMatchObject({ message: "任务 t1 下没有图像 y", status: 404, detail: expect.stringMatching(/\w/) });
  });
});

describe("GET the task's images", () => {
  it("lists every image in ascending order_id, paged, each with its set in the live split", async () => {
    // Arrange
    const { store } = await freshStore();
    const taskId = "listing";
    await registerImages(store, taskId, 250);
    const result = await split(store, { taskId, counts: counts(100, 50, 25), seed: "l" });

    // Act
    const listed = await readAllListed(store, taskId, 40);
    const firstPage = await store.listImages({ taskId, imgId: undefined, limit: 40, cursor: undefined });

    // Assert
    expect(listed.map((image) => image.order_id)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(listed.map((image) => image.img_id)).toEqual(ids(taskId, 1, 250));
    expect(firstPage.images).toHaveLength(40);
    expect(firstPage.nextCursor).toBeDefined();
    for (const image of listed) {
      const setType = ([0, 1, 2] as const).find((t) => result.drawn[t].includes(image.img_id)) ?? null;
      expect(image.set_type_id).toBe(setType);
    }
    expect(listed.filter((image) => image.set_type_id === null)).toHaveLength(75);
  });

  it("is 1003 for a task without images or with all deleted; a cursor keeps its snapshot, and 1015 once it is gone", async () => {
    // Arrange
    const { store, config } = await freshStore();
    const taskId = "cursored";
    await registerImages(store, taskId, 30);
    const first = await split(store, { taskId, counts: counts(10, 10, 10), seed: "one" });
    const page = await store.listImages({ taskId, imgId: undefined, limit: 10, cursor: undefined });
    await split(store, { taskId, counts: counts(30, 0, 0), seed: "two" });

    // Act
    const rest = await store.listImages({ taskId, imgId: undefined, limit: 100, cursor: page.nextCursor });
    const live = await readAllListed(store, taskId);
    await db.send(
      new DeleteCommand({
        TableName: config.tableName,
        Key: { task_id: taskId, img_id: chunkKey(first.version, page.nextCursor!.token, 0) },
      }),
    );
    const gone = await codeOf(store.listImages({ taskId, imgId: undefined, limit: 10, cursor: page.nextCursor }));
    const none = await codeOf(store.listImages({ taskId: "never", imgId: undefined, limit: 10, cursor: undefined }));
    await store.deleteImages({ taskId, imgIds: ids(taskId, 1, 30) });
    const allDeleted = await codeOf(store.listImages({ taskId, imgId: undefined, limit: 10, cursor: undefined }));
    const deleteAgain = await store.deleteImages({ taskId, imgIds: [imageId(taskId, 1)] });

    // Assert: the rest of the first split's listing still names the first split's sets
    for (const image of rest.images) {
      const setType = ([0, 1, 2] as const).find((t) => first.drawn[t].includes(image.img_id));
      expect(image.set_type_id).toBe(setType);
    }
    expect(rest.images.map((image) => image.order_id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
    expect(rest.nextCursor).toBeUndefined();
    expect(live.every((image) => image.set_type_id === 0)).toBe(true);
    expect([gone, none, allDeleted]).toEqual([1015, 1003, 1003]);
    // deleting in a task whose images are all deleted is no error: they were deleted before
    expect(deleteAgain).toEqual({ taskId, deleted: 0, alreadyDeleted: 1, notFound: [], total: 0 });
  });
});

describe("DELETE images", () => {
  it("answers deleted, already_deleted, not_found and the images left; deleting again changes nothing", async () => {
    // Arrange
    const { store, config } = await freshStore();
    const taskId = "deleting";
    await registerImages(store, taskId, 10);

    // Act
    const first = await store.deleteImages({ taskId, imgIds: [imageId(taskId, 2), "ghost", imageId(taskId, 5)] });
    const taskAfterFirst = await storedItem(config.tableName, taskId, TASK_ITEM_SK);
    const second = await store.deleteImages({ taskId, imgIds: [imageId(taskId, 5), imageId(taskId, 7), "ghost2"] });
    const third = await store.deleteImages({ taskId, imgIds: [imageId(taskId, 5)] });
    const task = await storedItem(config.tableName, taskId, TASK_ITEM_SK);
    const deletedItem = await storedItem(config.tableName, taskId, imageId(taskId, 5));
    const tombstones = await tombstonesOf(config.tableName, taskId);

    // Assert
    expect(first).toEqual({ taskId, deleted: 2, alreadyDeleted: 0, notFound: ["ghost"], total: 8 });
    expect(taskAfterFirst).toMatchObject({ image_count: 8, deleted_count: 2 });
    expect(second).toEqual({ taskId, deleted: 1, alreadyDeleted: 1, notFound: ["ghost2"], total: 7 });
    expect(third).toEqual({ taskId, deleted: 0, alreadyDeleted: 1, notFound: [], total: 7 });
    expect(task).toMatchObject({ image_count: 7, deleted_count: 3 });
    // The item stays, keeps its order_id, loses its index key
    expect(deletedItem).toMatchObject({ deleted: true, order_id: 5 });
    expect(deletedItem?.[TABLE.orderIndex.partitionKey]).toBeUndefined();
    // one tombstone per deleted order_id
    expect(tombstones).toEqual([tombstoneKey(2), tombstoneKey(5), tombstoneKey(7)]);
  });

  it("leaves every set listing and the image listing of every snapshot at once, and the counts", async () => {
    // Arrange
    const { store } = await freshStore();
    const taskId = "leaving";
    await registerImages(store, taskId, 60);
    const old = await split(store, { taskId, counts: counts(30, 20, 10), seed: "old" });
    const oldPage = await store.listSet({ taskId, setType: 0, limit: 5, cursor: undefined });
    const live = await split(store, { taskId, counts: counts(20, 20, 20), seed: "live" });
    const doomed = [
      ...new Set([...old.drawn[0].slice(0, 10), ...live.drawn[1].slice(0, 5), ...live.drawn[2].slice(0, 5)]),
    ];

    // Act
    const result = await store.deleteImages({ taskId, imgIds: doomed });
    const sets = await setsOf(store, taskId);
    const listed = await readAllListed(store, taskId, 7);
    const oldRest: string[] = [];
    for (let cursor = oldPage.nextCursor; cursor; ) {
      const page = await store.listSet({ taskId, setType: 0, limit: 4, cursor });
      oldRest.push(...page.images.map((image) => image.img_id));
      cursor = page.nextCursor;
    }
    const summary = await store.taskSummary(taskId);

    // Assert
    const gone = new Set(doomed);
    expect(result.deleted).toBe(new Set(doomed).size);
    for (const setType of [0, 1, 2] as const) {
      expect(sets[setType]).toEqual(byOrder(live.drawn[setType].filter((id) => !gone.has(id))));
    }
    expect(listed.map((image) => image.img_id)).toEqual(ids(taskId, 1, 60).filter((id) => !gone.has(id)));
    const oldFirst = oldPage.images.map((image) => image.img_id);
    expect(oldRest).toEqual(byOrder(old.drawn[0].filter((id) => !gone.has(id) && !oldFirst.includes(id))));
    // Counts: images left; the split's recorded sizes stay as they were
    expect(summary.imageCount).toBe(60 - gone.size);
    expect(summary.deletedCount).toBe(gone.size);
    const stillAssigned = [0, 1, 2].reduce((sum, t) => sum + sets[t as SetType].length, 0);
    expect(summary.unassignedCount).toBe(60 - gone.size - stillAssigned);
    expect(summary.live?.achieved).toEqual({ 0: 20, 1: 20, 2: 20 });
  });

  it("keeps the order_id; the image is in no later split (keep, lock_testing, fresh, ratios), and 1007 counts the images left", async () => {
    // Arrange
    const { store, config } = await freshStore();
    const taskId = "later";
    await registerImages(store, taskId, 20);
    const first = await split(store, { taskId, counts: counts(10, 5, 5), seed: "f" });
    // one training, two testing, one verifying: 9 / 3 / 4 left, all assigned
    const doomed = [first.drawn[0][0]!, first.drawn[1][0]!, first.drawn[1][1]!, first.drawn[2][0]!];
    await store.deleteImages({ taskId, imgIds: doomed });
    const orderIds = await Promise.all(
      doomed.map(async (id) => (await storedItem(config.tableName, taskId, id))?.order_id),
    );

    // Act
    const tooMany = await codeOf(split(store, { taskId, counts: counts(10, 5, 5), seed: "x" }));
    const keep = await split(store, {
      taskId,
      counts: counts(9, 4, 3),
      seed: "k",
      options: { ...defaults(), mode: "keep" },
    });
    const lateVictim = keep.drawn[1][0]!;
    await store.deleteImages({ taskId, imgIds: [lateVictim] });
    const locked = await split(store, {
      taskId,
      counts: counts(9, 4, 2),
      seed: "l",
      options: { ...defaults(), lockTesting: true },
    });
    const fresh = await split(store, { taskId, counts: counts(8, 4, 3), seed: "g" });
    const ratios = await split(store, { taskId, ratios: { 0: 0.5, 1: 0.25, 2: 0.25 }, seed: "r" });

    // Assert
    expect(tooMany).toBe(1007);
    expect(orderIds).toEqual(doomed.map((id) => Number(id.slice(taskId.slice(0, 8).length))));
    for (const setType of [0, 1, 2] as const) {
      expect(new Set(keep.drawn[setType])).toEqual(new Set(first.drawn[setType].filter((id) => !doomed.includes(id))));
    }
    expect(new Set(locked.drawn[1])).toEqual(new Set(keep.drawn[1].filter((id) => id !== lateVictim)));
    for (const result of [keep, locked, fresh, ratios]) {
      const all = [...result.drawn[0], ...result.drawn[1], ...result.drawn[2]];
      expect(all.filter((id) => doomed.includes(id) || (result !== keep && id === lateVictim))).toEqual([]);
    }
    expect(ratios.drawn[0].length + ratios.drawn[1].length + ratios.drawn[2].length).toBe(15);
  });

  it("registered again, a deleted image comes back as a new image: added, the next order_id, unassigned", async () => {
    // Arrange
    const { store, config } = await freshStore();
    const taskId = "revived";
    await registerImages(store, taskId, 10);
    const before = await split(store, { taskId, counts: counts(5, 3, 2), seed: "b" });
    const victim = before.drawn[0][0]!;
    const oldOrder = (await store.getImage(taskId, victim)).order_id;
    await store.deleteImages({ taskId, imgIds: [victim] });

    // Act
    const again = await store.registerImages({
      taskId,
      images: [{ imgId: victim, imgName: "back.jpg", label: "new" }],
    });
    const image = await store.getImage(taskId, victim);
    const sets = await setsOf(store, taskId);
    const listed = await readAllListed(store, taskId);
    const summary = await store.taskSummary(taskId);
    const task = await storedItem(config.tableName, taskId, TASK_ITEM_SK);

    // Assert
    expect(again).toMatchObject({ added: 1, updated: 0, unchanged: 0, total: 10 });
    expect(image).toMatchObject({ img_name: "back.jpg", order_id: 11, label: "new", set_type_id: null, state: 0 });
    expect(oldOrder).not.toBe(11);
    expect(sets[0]).not.toContain(victim);
    expect(listed.map((i) => i.img_id).at(-1)).toBe(victim);
    expect(listed.filter((i) => i.img_id === victim)).toHaveLength(1);
    expect(summary).toMatchObject({ imageCount: 10, deletedCount: 0, unassignedCount: 1 });
    expect(task).toMatchObject({ image_count: 10, deleted_count: 0, next_order: 11 });
  });

  it("deletes images spread over 150 order blocks in transactions within 100 actions, a tombstone each", async () => {
    // Arrange: one image in each of 150 order blocks (order_ids 1, 10,001, 20,001 …)
    const { store, config } = await freshStore();
    const taskId = "spread";
    for (let block = 0; block < 150; block++) await seedImages(config, taskId, 1, block * 10_000 + 1);
    const spread = Array.from({ length: 150 }, (_, block) => imageId(taskId, block * 10_000 + 1));

    // Act
    const result = await store.deleteImages({ taskId, imgIds: spread });
    const tombstones = await tombstonesOf(config.tableName, taskId);

    // Assert
    expect(result).toMatchObject({ deleted: 150, alreadyDeleted: 0, notFound: [], total: 0 });
    expect(tombstones).toEqual(Array.from({ length: 150 }, (_, block) => tombstoneKey(block * 10_000 + 1)));
    expect(await codeOf(store.listImages({ taskId, imgId: undefined, limit: 10, cursor: undefined }))).toBe(1003);
  });

  it("a page whose member is missing and not deleted still waits for the index and then answers 503", async () => {
    // Arrange: one image loses its index key without a tombstone (a lagging index)
    const { store, config } = await freshStore({ indexWaitMs: 200 });
    const taskId = "lagging";
    await registerImages(store, taskId, 10);
    const result = await split(store, { taskId, counts: counts(10, 0, 0), seed: "z" });
    await store.deleteImages({ taskId, imgIds: [imageId(taskId, 3)] });
    await db.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: { task_id: taskId, img_id: imageId(taskId, 6) },
        UpdateExpression: "REMOVE order_block",
      }),
    );

    // Act
    const error = await store
      .listSet({ taskId, setType: 0, limit: 10, cursor: undefined })
      .catch((e: unknown) => e as { code: number; status: number });
    const beforeSix = await store.listSet({ taskId, setType: 0, limit: 4, cursor: undefined });

    // Assert: the deleted one is dropped, the lagging one is not silently skipped
    expect(error).toMatchObject({ code: 1500, status: 503 });
    expect(beforeSix.images.map((i) => i.order_id)).toEqual([1, 2, 4, 5]);
    expect(result.drawn[0]).toHaveLength(10);
  });
});

describe("validation", () => {
  it("GET: another parameter 1023 first, task_id 1002, a malformed img_id 1011 naming img_id, limit and cursor 1012", () => {
    const code = (query: Record<string, string>) => {
      try {
        parseImagesQuery(query);
        return 0;
      } catch (error) {
        return (error as { code: number }).code;
      }
    };
    expect(code({ img_id: "x" })).toBe(1002);
    expect(code({ task_id: "t", img_id: "bad id" })).toBe(1011);
    expect(code({ task_id: "t", limit: "0" })).toBe(1012);
    expect(code({ task_id: "t", limit: "10001" })).toBe(1012);
    expect(code({ task_id: "t", cursor: "garbage" })).toBe(1012);
    expect(code({ set_type_id: "7" })).toBe(1023);
    expect(code({ task_id: "t", img_id: "i1", limit: "3" })).toBe(0);
    expect(parseImagesQuery({ task_id: '"t"', img_id: "i1" })).toEqual({
      taskId: "t",
      imgId: "i1",
      limit: 5000,
      cursor: undefined,
    });
  });

  it("DELETE: body 1001, unknown fields 1023, task_id 1002, then img_ids 1011 naming the field", () => {
    const failure = (body: unknown) => {
      try {
        parseDeleteRequest(body);
        return undefined;
      } catch (error) {
        return { code: (error as { code: number }).code, msg: (error as Error).message };
      }
    };
    expect(failure([1])?.code).toBe(1001);
    expect(failure({ task_id: "bad id", img_ids: [], extra: 1 })?.code).toBe(1023);
    expect(failure({ task_id: "bad id", img_ids: [] })?.code).toBe(1002);
    expect(failure({ task_id: "t", img_ids: [] })).toEqual({ code: 1011, msg: "图像数据格式错误: img_ids" });
    expect(failure({ task_id: "t", img_ids: "a" })?.msg).toBe("图像数据格式错误: img_ids");
    expect(failure({ task_id: "t", img_ids: Array.from({ length: 1001 }, (_, i) => `i${i}`) })?.msg).toBe(
      "图像数据格式错误: img_ids",
    );
    expect(failure({ task_id: "t", img_ids: ["a", "b", "c", "a"] })?.msg).toBe("图像数据格式错误: img_ids[3]");
    expect(failure({ task_id: "t", img_ids: ["a", "b", "c", "no way"] })?.msg).toBe("图像数据格式错误: img_ids[3]");
    expect(parseDeleteRequest({ task_id: 12, img_ids: [1, "b"] })).toEqual({ taskId: "12", imgIds: ["1", "b"] });
  });
});

describe("splits and deletions at the same time", () => {
  it("every listing afterwards excludes every deleted image; each split's sets are exact over what it saw", async () => {
    // Arrange
    const { store } = await freshStore();
    const taskId = "racing";
    await registerImages(store, taskId, 600);
    const doomed = ids(taskId, 1, 600).filter((_, i) => i % 3 === 0);

    // Act: 4 splits and 4 deletions of 50 images each, interleaved
    const splits = Array.from({ length: 4 }, (_, k) =>
      split(store, { taskId, counts: counts(200, 100, 50), seed: `race${k}` }).catch((e: unknown) => e),
    );
    const deletions = Array.from({ length: 4 }, (_, k) =>
      store.deleteImages({ taskId, imgIds: doomed.slice(k * 50, (k + 1) * 50) }),
    );
    const [splitResults, deleted] = await Promise.all([Promise.all(splits), Promise.all(deletions)]);

    // Assert
    expect(deleted.reduce((sum, d) => sum + d.deleted, 0)).toBe(200);
    const gone = new Set(doomed);
    const sets = await setsOf(store, taskId);
    const listed = await readAllListed(store, taskId, 97);
    expect(listed.map((image) => image.img_id)).toEqual(ids(taskId, 1, 600).filter((id) => !gone.has(id)));
    const task = await store.readTask(taskId);
    const winner = splitResults.find(
      (r): r is Awaited<ReturnType<typeof split>> =>
        typeof r === "object" && r !== null && "version" in r && r.version === task?.live?.version,
    );
    expect(winner).toBeDefined();
    const seen = new Set<string>();
    for (const setType of [0, 1, 2] as const) {
      // exactly the winner's set, minus the images deleted since
      expect(sets[setType]).toEqual(byOrder(winner!.drawn[setType].filter((id) => !gone.has(id))));
      for (const id of sets[setType]) {
        expect(gone.has(id)).toBe(false);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      expect(new Set(winner!.drawn[setType]).size).toBe(winner!.drawn[setType].length);
    }
    for (const image of listed)
      expect(image.set_type_id === null || sets[image.set_type_id].includes(image.img_id)).toBe(true);
    expect(task?.imageCount).toBe(400);
    // a split after the dust settles sees only the images left
    const after = await split(store, { taskId, counts: counts(200, 100, 100), seed: "after" });
    expect(after.unassignedCount).toBe(0);
    expect([...after.drawn[0], ...after.drawn[1], ...after.drawn[2]].filter((id) => gone.has(id))).toEqual([]);
  });
});

describe("a 12,000-image task", () => {
  it("deleting half of it, then paging every set and the image listing", async () => {
    // Arrange
    const { store, config } = await freshStore();
    const taskId = "twelvethousand";
    await seedImages(config, taskId, 12_000);
    const result = await split(store, { taskId, counts: counts(8_400, 2_400, 1_200), seed: "12k" });
    const doomed = ids(taskId, 1, 12_000).filter((_, i) => i % 2 === 1);

    // Act
    const answers = [];
    for (let k = 0; k < doomed.length; k += 1000) {
      answers.push(await store.deleteImages({ taskId, imgIds: doomed.slice(k, k + 1000) }));
    }
    const sets = await setsOf(store, taskId);
    const listed = await readAllListed(store, taskId, 2_500);

    // Assert
    expect(answers.reduce((sum, a) => sum + a.deleted, 0)).toBe(6_000);
    expect(answers.at(-1)?.total).toBe(6_000);
    const gone = new Set(doomed);
    for (const setType of [0, 1, 2] as const) {
      expect(sets[setType]).toEqual(byOrder(result.drawn[setType].filter((id) => !gone.has(id))));
    }
    expect(listed).toHaveLength(6_000);
    expect(listed.map((image) => image.order_id)).toEqual(Array.from({ length: 6_000 }, (_, i) => 2 * i + 1));
    const summary = await store.taskSummary(taskId);
    expect(summary).toMatchObject({ imageCount: 6_000, deletedCount: 6_000, unassignedCount: 0 });
    // no index entry is left for a deleted image
    const left = await db.send(
      new QueryCommand({
        TableName: config.tableName,
        IndexName: TABLE.orderIndex.indexName,
        KeyConditionExpression: "order_block = :b",
        ExpressionAttributeValues: { ":b": `${taskId}#0` },
        Select: "COUNT",
      }),
    );
    expect(left.Count).toBe(5_000);
  });
});

function defaults() {
  return {
    stratifyBy: undefined,
    groupBy: undefined,
    rareLabels: "training" as const,
    mode: "fresh" as const,
    lockTesting: false,
    dryRun: false,
    algorithm: "v1",
  };
}
