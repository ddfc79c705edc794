import { describe, expect, it } from "vitest";
import { sleep } from "../../lib/concurrency.ts";
import type { ServiceError } from "../../lib/errors.ts";
import { SET_TYPES, type SplitResult } from "../../lib/model.ts";
import { createStore } from "../../lib/store.ts";
import { faultyClient } from "../support/faults.ts";
import {
  codeOf,
  counts,
  expectCompleteSplit,
  freshStore,
  imageId,
  readWholeSet,
  registerImages,
  registrationOrder,
} from "../support/store.ts";

/** Membership of every set as one comparable string per set type. */
const membership = (split: SplitResult) => SET_TYPES.map((setType) => [...split.drawn[setType]].sort().join(","));

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
    expect(first).toEqual({ taskId, added: 2, updated: 0, total: 2 });
    expect(second).toEqual({ taskId, added: 1, updated: 1, total: 3 });
    await store.splitTask({ taskId, counts: counts(3, 0, 0), seed: "s" });
    expect(await readWholeSet(store, taskId, 0)).toEqual([
      { img_name: "img_拓海_1_renamed.png", img_id: "2018072080042233351", state: 2, order_id: 1 },
      { img_name: "img_1.jpg", img_id: "2018072084092101478", state: 0, order_id: 2 },
      { img_name: "img_2.jpg", img_id: "2018072067241762338", state: 1, order_id: 3 },
    ]);
  });

  it("leaves an image's set assignment untouched when it is registered again", async () => {
    const { store } = await freshStore();
    const taskId = "task-reregister";
    await registerImages(store, taskId, 20);
    const split = await store.splitTask({ taskId, counts: counts(10, 5, 5), seed: "x" });

    await registerImages(store, taskId, 20);

    await expectCompleteSplit(store, split, registrationOrder(taskId));
  });
});

describe("splitting", () => {
  it("answers 1003 for a task without images and 1007 when the counts exceed the images", async () => {
    const { store } = await freshStore();
    await registerImages(store, "small", 5);

    expect(await codeOf(store.splitTask({ taskId: "nothing-here", counts: counts(1, 0, 0), seed: undefined }))).toBe(
      1003,
    );
    const tooMany = store.splitTask({ taskId: "small", counts: counts(3, 2, 1), seed: undefined });
    await expect(tooMany).rejects.toThrow("三个集合的图像个数之和 6 超过了任务下的图像总数 5");
  });

  it("gives exactly the requested sizes, disjoint sets and unassigned leftovers (guarantee 1)", async () => {
    const { store } = await freshStore();
    const taskId = "sizes";
    await registerImages(store, taskId, 100);

    const split = await store.splitTask({ taskId, counts: counts(50, 20, 10), seed: undefined });

    expect(split.drawn[0]).toHaveLength(50);
    expect(split.drawn[2]).toHaveLength(20);
    expect(split.drawn[1]).toHaveLength(10);
    expect(split.unassignedCount).toBe(20);
    expect(split.seed).toMatch(/^[0-9a-f]{32}$/);
    await expectCompleteSplit(store, split, registrationOrder(taskId));
  });

  it("reproduces a split from its seed, and a re-split replaces the previous one completely", async () => {
    const { store } = await freshStore();
    const taskId = "reseed";
    await registerImages(store, taskId, 300);

    const first = await store.splitTask({ taskId, counts: counts(100, 50, 50), seed: undefined });
    const other = await store.splitTask({ taskId, counts: counts(150, 0, 10), seed: "other" });
    await expectCompleteSplit(store, other, registrationOrder(taskId));
    const again = await store.splitTask({ taskId, counts: counts(100, 50, 50), seed: first.seed });

    expect(again.drawn).toEqual(first.drawn);
    expect(again.version).toBe(first.version + 2);
    await expectCompleteSplit(store, again, registrationOrder(taskId));
  });

  it("two concurrent splits of one task: one wins, the other gets 1008, the final state is the winner's", async () => {
    const { store } = await freshStore();
    const taskId = "race";
    await registerImages(store, taskId, 2000);

    const results = await Promise.allSettled([
      store.splitTask({ taskId, counts: counts(1000, 500, 500), seed: "one" }),
      store.splitTask({ taskId, counts: counts(1000, 500, 500), seed: "two" }),
    ]);

    const won = results
      .filter((r): r is PromiseFulfilledResult<SplitResult> => r.status === "fulfilled")
      .map((r) => r.value)
      .sort((a, b) => a.version - b.version);
    const lost = results.filter((r) => r.status === "rejected").map((r) => (r.reason as ServiceError).code);
    expect(won.length).toBeGreaterThanOrEqual(1);
    expect(lost).toEqual(won.length === 2 ? [] : [1008]);
    // Refused, or serialised after the first: either way the final state is the latest winner's, whole.
    await expectCompleteSplit(store, won.at(-1) as SplitResult, registrationOrder(taskId));
  });

  it("a reader during a split sees the complete old or the complete new assignment, never a mix (guarantee 2)", async () => {
    // Arrange
    const { store } = await freshStore({ writeConcurrency: 2 });
    const taskId = "readers";
    await registerImages(store, taskId, 3000);
    const before = await store.splitTask({ taskId, counts: counts(1500, 800, 700), seed: "before" });

    // Act: read every set, whole, again and again while the next split runs
    let splitting = true;
    const running = store
      .splitTask({ taskId, counts: counts(1500, 800, 700), seed: "after" })
      .finally(() => (splitting = false));
    const observations: string[][] = [];
    while (splitting) {
      observations.push(
        await Promise.all(
          SET_TYPES.map(async (setType) =>
            (await readWholeSet(store, taskId, setType, 1000))
              .map((i) => i.img_id)
              .sort()
              .join(","),
          ),
        ),
      );
    }
    const after = await running;

    // Assert: each set, as read, is exactly one version's (the three reads may straddle the flip)
    expect(membership(before)).not.toEqual(membership(after));
    expect(observations.length).toBeGreaterThan(1);
    for (const seen of observations) {
      for (const setType of SET_TYPES) {
        expect([membership(before)[setType], membership(after)[setType]]).toContain(seen[setType]);
      }
    }
  });

  it("a split that dies half way leaves the previous assignment readable; a retry after the lease succeeds (guarantee 4)", async () => {
    const { store, config } = await freshStore({ leaseMs: 1500 });
    const taskId = "crash";
    await registerImages(store, taskId, 1000);
    const previous = await store.splitTask({ taskId, counts: counts(600, 200, 200), seed: "previous" });
    const faults = faultyClient();
    const dying = createStore(config, faults.client);
    faults.crashAfter("BatchWriteItemCommand", 10);

    const died = await codeOf(dying.splitTask({ taskId, counts: counts(500, 250, 250), seed: "dies" }));

    expect(died).toBe(1500);
    expect(faults.crashed).toBe(true);
    await expectCompleteSplit(store, previous, registrationOrder(taskId));
    expect(await codeOf(store.splitTask({ taskId, counts: counts(1, 0, 0), seed: "too-soon" }))).toBe(1008);
    await sleep(1600);
    const retried = await store.splitTask({ taskId, counts: counts(500, 250, 250), seed: "dies" });
    await expectCompleteSplit(store, retried, registrationOrder(taskId));
  });

  it("a registration during a split waits or gets 1008, and a change it reports done is never lost (guarantee 5)", async () => {
    const { store } = await freshStore({ writeConcurrency: 2, registerWaitMs: 100 });
    const taskId = "state-change";
    await registerImages(store, taskId, 3000);
    const target = imageId(taskId, 1234);

    const split = store.splitTask({ taskId, counts: counts(3000, 0, 0), seed: "s" });
    await sleep(50);
    let refused = 0;
    for (;;) {
      const code = await codeOf(
        store.registerImages({ taskId, images: [{ imgId: target, imgName: "renamed.jpg", state: 3 }] }),
      );
      if (code === 0) break;
      expect(code).toBe(1008);
      refused++;
    }
    await split;

    const listed = await readWholeSet(store, taskId, 0);
    expect(listed.find((image) => image.img_id === target)).toEqual({
      img_id: target,
      img_name: "renamed.jpg",
      state: 3,
      order_id: 1234,
    });
    expect(refused).toBeGreaterThan(0);
  });
});

describe("listing", () => {
  it("pages a set across index blocks, each image once, in order_id order", async () => {
    const { store } = await freshStore();
    const taskId = "blocks";
    await registerImages(store, taskId, 12_000);
    const split = await store.splitTask({ taskId, counts: counts(11_000, 600, 400), seed: "blocks" });

    const pages: number[] = [];
    const listed = [];
    let cursor: Parameters<typeof store.listSet>[0]["cursor"];
    do {
      const page = await store.listSet({ taskId, setType: 0, limit: 3000, cursor });
      pages.push(page.images.length);
      listed.push(...page.images);
      cursor = page.nextCursor;
    } while (cursor);

    expect(pages).toEqual([3000, 3000, 3000, 2000]);
    expect(listed.map((i) => i.img_id).sort()).toEqual([...split.drawn[0]].sort());
    expect(listed.map((i) => i.order_id)).toEqual([...listed.map((i) => i.order_id)].sort((a, b) => a - b));
    await expectCompleteSplit(store, split, registrationOrder(taskId));
  });

  it("a cursor keeps reading its own version after one re-split and gets 1015 once that version is overwritten", async () => {
    const { store } = await freshStore();
    const taskId = "cursor";
    await registerImages(store, taskId, 50);
    const v1 = await store.splitTask({ taskId, counts: counts(30, 10, 10), seed: "v1" });
    const first = await store.listSet({ taskId, setType: 0, limit: 10, cursor: undefined });

    await store.splitTask({ taskId, counts: counts(30, 10, 10), seed: "v2" });
    const continued = await store.listSet({ taskId, setType: 0, limit: 100, cursor: first.nextCursor });
    await store.splitTask({ taskId, counts: counts(30, 10, 10), seed: "v3" });
    const stale = codeOf(store.listSet({ taskId, setType: 0, limit: 10, cursor: first.nextCursor }));

    expect([...first.images, ...continued.images].map((i) => i.img_id).sort()).toEqual([...v1.drawn[0]].sort());
    expect(continued.nextCursor).toBeUndefined();
    expect(await stale).toBe(1015);
  });

  it("answers 1010 for a never-split task and for an empty set", async () => {
    const { store } = await freshStore();
    await registerImages(store, "empty-set", 10);

    expect(await codeOf(store.listSet({ taskId: "empty-set", setType: 1, limit: 10, cursor: undefined }))).toBe(1010);
    await store.splitTask({ taskId: "empty-set", counts: counts(9, 0, 1), seed: undefined });
    expect(await codeOf(store.listSet({ taskId: "empty-set", setType: 2, limit: 10, cursor: undefined }))).toBe(1010);
    expect(await codeOf(store.listSet({ taskId: "unknown", setType: 0, limit: 10, cursor: undefined }))).toBe(1010);
  });
});
