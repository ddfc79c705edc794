import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { chunkKey } from "../../../lib/store/table.ts";
import { codeOf, counts, freshStore, imageId, registerImages, split } from "../../support/store.ts";
import { db, ids, readAllListed } from "./image-listing.ts";

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
