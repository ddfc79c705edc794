import { beforeAll, describe, expect, it } from "vitest";
import type { SetCursor } from "../../lib/model.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { TABLE, TOMBSTONE_PREFIX, tombstoneKey } from "../../lib/store/table.ts";
import { chunkWrites, imageWrites, isPublish, type LoggedCall, useFaultProxy } from "../support/fault-proxy/index.ts";
import { counts, freshStore, imageId, readWholeSet, seedImages, split } from "../support/store.ts";

/**
 * Deleting images through the capacity model (test/support/capacity-model/): a deletion writes
 * each image once and puts one small tombstone item for its order_id, both in a transaction (so
 * their table units count twice: 4 an image), and drops its index entry (1): 5 write units an
 * image. The task item comes on top, 2 units a transaction of up to 49 images. No item it writes
 * grows with earlier deletions, so an image costs the same in a fresh order block as in one with
 * 9,000 deletions. It never rewrites a snapshot.
 */
const proxy = useFaultProxy({ capacity: true });

describe("deleting 1,000 images through the capacity model", () => {
  it("costs 5 write units an image (item and tombstone ×2 in a transaction, index entry) and 2 a transaction, writes no snapshot", async () => {
    // Arrange
    const { store: truth, config } = await freshStore();
    const taskId = "capacity-delete";
    await seedImages(config, taskId, 3_000);
    const before = await split(truth, { taskId, counts: counts(2_000, 500, 500), seed: "cap" });
    const modelled = createStore({ ...config, endpoint: proxy().endpoint });
    // every third image over the first two order blocks' worth: 1,000 images
    const doomed = Array.from({ length: 1_000 }, (_, k) => imageId(taskId, 3 * k + 1));
    proxy().capacity!.reset();
    const start = proxy().log.length;

    // Act
    const started = Date.now();
    const result = await modelled.deleteImages({ taskId, imgIds: doomed });
    const took = Date.now() - started;

    // Assert
    expect(result).toMatchObject({ deleted: 1_000, alreadyDeleted: 0, notFound: [], total: 2_000 });
    const consumed = proxy().capacity!.consumed();
    const index = consumed.indexes[TABLE.orderIndex.indexName]?.writeUnits ?? 0;
    // one index write an image: its entry removed
    expect(index).toBe(1_000);
    // table: 2 an image and 2 its tombstone (transactional writes), plus 2 for the task item in each
    // of the 21 transactions (49 images each, 20 in the last)
    expect(consumed.table.writeUnits).toBe(4_042);
    expect(consumed.writeUnits).toBe(5_042);
    // the task item before and after, and the images looked up, strongly consistent
    expect(consumed.readUnits).toBe(1_002);
    // ~4,040 table units on one partition key take ≥ 3 s of its 1,000 WCU/s beyond the bucket's
    // second: a transaction may be throttled now and then (refused, uncharged, retried), never lost
    const calls = proxy().log.slice(start);
    expect(calls.reduce((sum, call) => sum + chunkWrites(call), 0)).toBe(0);
    expect(calls.filter(isPublish)).toHaveLength(0);
    expect(calls.filter((call) => call.operation === "BatchWriteItem")).toHaveLength(0);
    // each image written once by a call DynamoDB applied (a throttled attempt was refused, not applied)
    const applied = calls.filter((call) => call.status !== undefined && call.status < 300);
    expect(applied.filter((call) => call.operation === "TransactWriteItems")).toHaveLength(21);
    const written = applied.flatMap((call) => imageWrites(call).imgIds);
    expect(new Set(written)).toEqual(new Set(doomed));
    expect(written).toHaveLength(1_000);
    expect(took).toBeLessThan(10_000);
    // the snapshot is untouched: its sets, less the deleted images
    const gone = new Set(doomed);
    for (const setType of [0, 1, 2] as const) {
      const listed = (await readWholeSet(truth, taskId, setType)).map((image) => image.img_id);
      expect(listed).toEqual([...before.drawn[setType]].filter((id) => !gone.has(id)).sort());
    }
  });
});

const ids = (task: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => imageId(task, from + k));

/** The tombstone sort keys that the BatchGetItem calls among `calls` asked for. */
const tombstonesRead = (calls: LoggedCall[]) =>
  calls
    .filter((call) => call.operation === "BatchGetItem")
    .flatMap((call) =>
      Object.values(call.input.RequestItems as Record<string, { Keys: Record<string, { S: string }>[] }>).flatMap(
        (request) => request.Keys.map((key) => key[TABLE.sortKey]?.S ?? ""),
      ),
    )
    .filter((sortKey) => sortKey.startsWith(TOMBSTONE_PREFIX));

describe("costs that do not grow with deletions (9,000 in order block 0, none in block 1)", () => {
  const taskId = "fullblock";
  let truth: Store;
  let modelled: Store;

  /** Units one call consumed through the capacity model, from a fresh account. */
  const measured = async <T>(call: () => Promise<T>) => {
    proxy().capacity!.reset();
    const start = proxy().log.length;
    const result = await call();
    return { result, consumed: proxy().capacity!.consumed(), calls: proxy().log.slice(start) };
  };

  beforeAll(async () => {
    // block 0 full and 600 images of block 1; 9,000 of block 0 deleted through the store (without
    // the model: 184 transactions), then every image left in training
    const fresh = await freshStore();
    truth = fresh.store;
    modelled = createStore({ ...fresh.config, endpoint: proxy().endpoint });
    await seedImages(fresh.config, taskId, 10_600);
    // one after another: deletions in parallel would only contend for the task item and retry
    const answers = [];
    for (let k = 0; k < 9; k++) {
      answers.push(await truth.deleteImages({ taskId, imgIds: ids(taskId, k * 1_000 + 1, (k + 1) * 1_000) }));
    }
    expect(answers.map((answer) => answer.deleted)).toEqual(Array(9).fill(1_000));
    await split(truth, { taskId, counts: counts(1_600, 0, 0), seed: "full" });
  }, 180_000);

  it("deleting one image costs the same write and read units in a block with 9,000 deletions as in a fresh one", async () => {
    // Act
    const inFullBlock = await measured(() => modelled.deleteImages({ taskId, imgIds: [imageId(taskId, 9_500)] }));
    const inFreshBlock = await measured(() => modelled.deleteImages({ taskId, imgIds: [imageId(taskId, 10_500)] }));

    // Assert: the image (2, transactional), the task item (2), its tombstone (2), its index entry (1)
    expect(inFullBlock.result).toMatchObject({ deleted: 1, alreadyDeleted: 0, notFound: [] });
    expect(inFreshBlock.result).toMatchObject({ deleted: 1, alreadyDeleted: 0, total: inFullBlock.result.total - 1 });
    for (const { consumed } of [inFullBlock, inFreshBlock]) {
      expect(consumed.table.writeUnits).toBe(6);
      expect(consumed.indexes[TABLE.orderIndex.indexName]?.writeUnits).toBe(1);
      // the task item read before and after (strongly consistent) and the image looked up
      expect(consumed.readUnits).toBe(3);
    }
  });

  it("a set page reads the tombstones of exactly the members it misses: the same units in either block", async () => {
    // Arrange: one training member deleted in each block
    await truth.deleteImages({ taskId, imgIds: [imageId(taskId, 9_005), imageId(taskId, 10_005)] });
    const base = (await truth.listSet({ taskId, setType: 0, limit: 1, cursor: undefined })).nextCursor as SetCursor;
    const page = (after: number) => () =>
      modelled.listSet({ taskId, setType: 0, limit: 10, cursor: { ...base, after } });

    // Act
    const inFullBlock = await measured(page(9_000));
    const inFreshBlock = await measured(page(10_000));
    const listing = await measured(() =>
      modelled.listImages({ taskId, imgId: undefined, limit: 10, cursor: undefined }),
    );

    // Assert
    const orderIds = (result: { images: { order_id: number }[] }) => result.images.map((image) => image.order_id);
    expect(orderIds(inFullBlock.result)).toEqual([
      9_001, 9_002, 9_003, 9_004, 9_006, 9_007, 9_008, 9_009, 9_010, 9_011,
    ]);
    expect(orderIds(inFreshBlock.result)).toEqual([
      10_001, 10_002, 10_003, 10_004, 10_006, 10_007, 10_008, 10_009, 10_010, 10_011,
    ]);
    expect(tombstonesRead(inFullBlock.calls)).toEqual([tombstoneKey(9_005)]);
    expect(tombstonesRead(inFreshBlock.calls)).toEqual([tombstoneKey(10_005)]);
    expect(inFullBlock.consumed.readUnits).toBe(inFreshBlock.consumed.readUnits);
    // the image listing never reads a tombstone: a deleted image has no index entry
    expect(orderIds(listing.result)).toEqual([9_001, 9_002, 9_003, 9_004, 9_006, 9_007, 9_008, 9_009, 9_010, 9_011]);
    expect(tombstonesRead(listing.calls)).toEqual([]);
  });
});
