import { afterEach, describe, expect, it, vi } from "vitest";
import { deferred, type Policy, useFaultProxy } from "../../support/fault-proxy/index.ts";
import { codeOf, freshStore, imageId, registerImages, storesThrough } from "../../support/store.ts";

const proxy = useFaultProxy();

const ids = (task: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => imageId(task, from + k));

/**
 * Holds the first two TransactWriteItems until both have arrived, then lets them through together:
 * two deletions that both looked their images up before either wrote.
 */
function holdFirstTwoTransactions(): Policy {
  const both = deferred();
  let seen = 0;
  return (call) => {
    if (call.operation !== "TransactWriteItems") return undefined;
    seen++;
    if (seen === 2) both.resolve();
    return seen <= 2 ? { kind: "hold", until: both.promise } : undefined;
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("DELETE images, retried and raced", () => {
  it("retried after it removed the task's last images, answers them as already deleted; 1003 only for a task that never had images", async () => {
    // Arrange
    const { store } = await freshStore();
    const taskId = "lastones";
    await registerImages(store, taskId, 3);
    const all = ids(taskId, 1, 3);
    const first = await store.deleteImages({ taskId, imgIds: all });

    // Act
    const retry = await store.deleteImages({ taskId, imgIds: all });
    const unknownInEmptied = await store.deleteImages({ taskId, imgIds: ["ghost"] });
    const never = await codeOf(store.deleteImages({ taskId: "neverhad", imgIds: ["x"] }));

    // Assert
    expect(first).toEqual({ taskId, deleted: 3, alreadyDeleted: 0, notFound: [], total: 0 });
    expect(retry).toEqual({ taskId, deleted: 0, alreadyDeleted: 3, notFound: [], total: 0 });
    expect(unknownInEmptied).toEqual({ taskId, deleted: 0, alreadyDeleted: 0, notFound: ["ghost"], total: 0 });
    expect(never).toBe(1003);
    expect(await store.readTask(taskId)).toMatchObject({ imageCount: 0, deletedCount: 3 });
  });

  it("two identical DELETEs in the same millisecond: one deletes, the other counts them as already deleted", async () => {
    // Arrange
    const { faulty, truth } = await storesThrough(proxy().endpoint);
    const taskId = "samemilli";
    await registerImages(truth, taskId, 8);
    const doomed = ids(taskId, 2, 6);
    proxy().policy = holdFirstTwoTransactions();
    vi.spyOn(Date, "now").mockReturnValue(Date.now());

    // Act
    const answers = await Promise.all([
      faulty.deleteImages({ taskId, imgIds: doomed }),
      faulty.deleteImages({ taskId, imgIds: doomed }),
    ]);
    vi.restoreAllMocks();

    // Assert
    expect(answers.map((a) => [a.deleted, a.alreadyDeleted]).sort()).toEqual([
      [0, 5],
      [5, 0],
    ]);
    expect(await truth.readTask(taskId)).toMatchObject({ imageCount: 3, deletedCount: 5 });
  });

  it("two DELETEs racing over overlapping ids count each image deleted exactly once across both answers", async () => {
    // Arrange
    const { faulty, truth } = await storesThrough(proxy().endpoint);
    const taskId = "overlap";
    await registerImages(truth, taskId, 12);
    const one = ids(taskId, 1, 6);
    const other = ids(taskId, 4, 10);
    proxy().policy = holdFirstTwoTransactions();

    // Act
    const [a, b] = await Promise.all([
      faulty.deleteImages({ taskId, imgIds: one }),
      faulty.deleteImages({ taskId, imgIds: other }),
    ]);

    // Assert: 4, 5 and 6 are in both; whichever wrote second found them deleted
    expect(a.deleted + a.alreadyDeleted).toBe(6);
    expect(b.deleted + b.alreadyDeleted).toBe(7);
    expect(a.deleted + b.deleted).toBe(10);
    expect(a.alreadyDeleted + b.alreadyDeleted).toBe(3);
    expect([a.alreadyDeleted, b.alreadyDeleted].sort()).toEqual([0, 3]);
    expect([...a.notFound, ...b.notFound]).toEqual([]);
    expect(await truth.readTask(taskId)).toMatchObject({ imageCount: 2, deletedCount: 10 });
    for (const imgId of ids(taskId, 1, 10)) expect(await codeOf(truth.getImage(taskId, imgId))).toBe(1026);
    for (const imgId of ids(taskId, 11, 12)) expect(await codeOf(truth.getImage(taskId, imgId))).toBe(0);
  });
});
