import { describe, expect, it } from "vitest";
import { answerBytes } from "../../../lib/http/answer-size.ts";
import { imagePageBudget, imagePageResponse, setPageBudget, setPageResponse } from "../../../lib/http/answers.ts";
import type { ImageInfo, SetCursor, SetType } from "../../../lib/model.ts";
import type { Store } from "../../../lib/store/index.ts";
import { counts, freshStore, imageId, split } from "../../support/store.ts";

/** Names of every length up to 40 characters, of the characters an answer escapes twice, and a 4-byte one. */
const nastyName = (i: number) => ['"', "\\", "𠜎", "\u0001"].map((c) => c.repeat(1 + (i % 10))).join("");

/** A task of `count` images with nasty names, labels and groups, split all into training. */
async function nastyTask(store: Store, taskId: string, count: number) {
  await store.registerImages({
    taskId,
    images: Array.from({ length: count }, (_, k) => ({
      imgId: imageId(taskId, k + 1),
      imgName: nastyName(k),
      state: k % 3,
      label: `"${k}`,
      group: `\\${k % 4}`,
    })),
  });
  await split(store, { taskId, counts: counts(count, 0, 0), seed: "budget" });
}

describe("a set page's budget", () => {
  it("holds exactly the images that fill MAX_ANSWER_BYTES as Lambda carries the answer, one fewer a byte under", async () => {
    // Arrange: with 20 images all in one set, a cursor after image 15 is as long as any the walk can give.
    const { store } = await freshStore();
    const taskId = "task-set-budget";
    await nastyTask(store, taskId, 20);
    const fifteen = await store.listSet({ taskId, setType: 0, limit: 15, cursor: undefined });
    const filled = answerBytes(setPageResponse(fifteen, 0));
    const capped = (maxAnswerBytes: number) =>
      store.listSet({ taskId, setType: 0, limit: 20, cursor: undefined }, undefined, setPageBudget(0, maxAnswerBytes));

    // Act
    const exactly = await capped(filled);
    const under = await capped(filled - 1);

    // Assert
    expect(fifteen.nextCursor).toMatchObject({ position: 15, after: 15 });
    expect(exactly.images).toEqual(fifteen.images);
    expect(exactly.nextCursor).toEqual(fifteen.nextCursor);
    expect(answerBytes(setPageResponse(exactly, 0))).toBe(filled);
    expect(under.images).toEqual(fifteen.images.slice(0, 14));
    expect(under.nextCursor).toMatchObject({ position: 14, after: 14 });
  });

  it("holds one image even when that one alone is past the cap", async () => {
    const { store } = await freshStore();
    const taskId = "task-set-one";
    await nastyTask(store, taskId, 3);

    const page = await store.listSet(
      { taskId, setType: 0, limit: 3, cursor: undefined },
      undefined,
      setPageBudget(0, 1),
    );

    expect(page.images.map((image) => image.order_id)).toEqual([1]);
    expect(page.nextCursor).toMatchObject({ position: 1, after: 1 });
  });
});

describe("an image page's budget", () => {
  it("holds exactly the images that fill MAX_ANSWER_BYTES as Lambda carries the answer, one fewer a byte under", async () => {
    const { store } = await freshStore();
    const taskId = "task-img-budget";
    await nastyTask(store, taskId, 20);
    const fifteen = await store.listImages({ taskId, imgId: undefined, limit: 15, cursor: undefined });
    const filled = answerBytes(imagePageResponse(fifteen));
    const capped = (maxAnswerBytes: number) =>
      store.listImages(
        { taskId, imgId: undefined, limit: 20, cursor: undefined },
        undefined,
        imagePageBudget(maxAnswerBytes),
      );

    const exactly = await capped(filled);
    const under = await capped(filled - 1);

    expect(fifteen.nextCursor?.after).toBe(15);
    expect(fifteen.images[0]).toEqual({
      img_id: imageId(taskId, 1),
      img_name: nastyName(0),
      state: 0,
      order_id: 1,
      label: '"0',
      group: "\\0",
      set_type_id: 0,
    });
    expect(exactly.images).toEqual(fifteen.images);
    expect(exactly.nextCursor).toEqual(fifteen.nextCursor);
    expect(answerBytes(imagePageResponse(exactly))).toBe(filled);
    expect(under.images).toEqual(fifteen.images.slice(0, 14));
    expect(under.nextCursor?.after).toBe(14);
  });

  it("holds one image even when that one alone is past the cap", async () => {
    const { store } = await freshStore();
    const taskId = "task-img-one";
    await nastyTask(store, taskId, 3);

    const page = await store.listImages(
      { taskId, imgId: undefined, limit: 3, cursor: undefined },
      undefined,
      imagePageBudget(1),
    );

    expect(page.images.map((image) => image.order_id)).toEqual([1]);
    expect(page.nextCursor?.after).toBe(1);
  });
});

describe("a set cursor whose size is more than its set holds", () => {
  it("ends where the walk of its snapshot ends: no next_cursor, no empty pages after", async () => {
    // Arrange: a 10-image set, and its first page's cursor claiming 30 (a cursor's size may be up to n).
    const { store } = await freshStore();
    const taskId = "task-inflated";
    await nastyTask(store, taskId, 30);
    await split(store, { taskId, counts: counts(10, 10, 10), seed: "inflated" });
    const first = await store.listSet({ taskId, setType: 0, limit: 4, cursor: undefined });
    const inflated = { ...(first.nextCursor as SetCursor), size: 30 };

    // Act: follow the cursors, at most 10 pages.
    const sizes: number[] = [];
    const images: ImageInfo[] = [...first.images];
    let cursor: SetCursor | undefined = inflated;
    while (cursor && sizes.length < 10) {
      const page = await store.listSet({ taskId, setType: 0, limit: 4, cursor });
      sizes.push(page.images.length);
      images.push(...page.images);
      cursor = page.nextCursor;
    }

    // Assert
    expect(first.nextCursor).toMatchObject({ n: 30, size: 10, position: 4 });
    expect(sizes).toEqual([4, 2]);
    expect(cursor).toBeUndefined();
    const whole = await store.listSet({ taskId, setType: 0, limit: 10, cursor: undefined });
    expect(images).toEqual(whole.images);
  });

  it("gives no cursor once its page has reached the snapshot's last order_id", async () => {
    // Arrange: the set holding order_id 30 (n), and a cursor claiming 30 images after its first 4 of 10.
    const { store } = await freshStore();
    const taskId = "task-inflated-n";
    await nastyTask(store, taskId, 30);
    await split(store, { taskId, counts: counts(10, 10, 10), seed: "inflated" });
    const setType = (await store.getImage(taskId, imageId(taskId, 30))).set_type_id as SetType;
    const first = await store.listSet({ taskId, setType, limit: 4, cursor: undefined });

    // Act: a page asking for exactly the 6 members left.
    const page = await store.listSet({
      taskId,
      setType,
      limit: 6,
      cursor: { ...(first.nextCursor as SetCursor), size: 30 },
    });

    // Assert
    expect(page.images.map((image) => image.order_id).at(-1)).toBe(30);
    expect(page.images).toHaveLength(6);
    expect(page.nextCursor).toBeUndefined();
  });
});
