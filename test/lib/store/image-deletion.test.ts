import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import type { SetType } from "../../../lib/model.ts";
import { TABLE, TASK_ITEM_SK, tombstoneKey } from "../../../lib/store/table.ts";
import { codeOf, counts, freshStore, imageId, registerImages, seedImages, split } from "../../support/store.ts";
import { byOrder, db, defaults, ids, readAllListed, setsOf, storedItem, tombstonesOf } from "./image-listing.ts";

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
