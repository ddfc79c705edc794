import { describe, expect, it } from "vitest";
import { createStore } from "../../lib/store/index.ts";
import { TABLE } from "../../lib/table.ts";
import { chunkWrites, imageWrites, isPublish, useFaultProxy } from "../support/fault-proxy.ts";
import { counts, freshStore, imageId, readWholeSet, seedImages, split } from "../support/store.ts";

/**
 * Deleting images through the capacity model (test/support/capacity-model.ts): a deletion writes
 * each image once (in a transaction, so its table units count twice) and drops its index entry;
 * the task item and one tombstone per order block come on top, once a transaction. It never
 * rewrites a snapshot.
 */
const proxy = useFaultProxy({ capacity: true });

describe("deleting 1,000 images through the capacity model", () => {
  it("costs about 3 write units an image (item ×2 in a transaction + index entry), writes no snapshot, and answers", async () => {
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
    // table: 2 an image (a transactional write), plus the task item and a tombstone a transaction
    expect(consumed.table.writeUnits).toBeGreaterThanOrEqual(2_000);
    expect(consumed.table.writeUnits).toBeLessThanOrEqual(2_300);
    expect(consumed.writeUnits).toBeLessThanOrEqual(3_300);
    // ~2,070 table units on one partition key take ≥ 1 s of its 1,000 WCU/s beyond the bucket's
    // second: a transaction may be throttled now and then (refused, uncharged, retried), never lost
    const calls = proxy().log.slice(start);
    expect(calls.reduce((sum, call) => sum + chunkWrites(call), 0)).toBe(0);
    expect(calls.filter(isPublish)).toHaveLength(0);
    expect(calls.filter((call) => call.operation === "BatchWriteItem")).toHaveLength(0);
    // each image written once by a call DynamoDB applied (a throttled attempt was refused, not applied)
    const applied = calls.filter((call) => call.status !== undefined && call.status < 300);
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
