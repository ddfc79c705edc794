import { describe, expect, it } from "vitest";
import type { StoreConfig } from "../../../lib/config.ts";
import { documentClient } from "../../../lib/store/client.ts";
import { readAllImages, readImageColumns } from "../../../lib/store/images.ts";
import { freshStore, imageId, localClient } from "../../support/store.ts";

const contextOf = (config: StoreConfig) => ({ db: documentClient(localClient()), config, table: config.tableName });
const labelOf = (i: number) => (i % 4 === 0 ? undefined : `label-${i % 3}`);
const groupOf = (i: number) => (i % 5 === 0 ? undefined : `group-${i % 40}`);

describe("readImageColumns", () => {
  it("reads every image not deleted, in img_id order, over parallel key ranges, labels and groups numbered once each", async () => {
    // Arrange: 450 images (past the 100 sampled, so ranges are read side by side), two of them deleted
    const { store, config } = await freshStore({ concurrency: 4 });
    const taskId = "columns";
    const images = Array.from({ length: 450 }, (_, k) => {
      const i = 450 - k; // registered in descending id order: order_id and id order differ
      return { imgId: imageId(taskId, i), imgName: `img_${i}.jpg`, label: labelOf(i), group: groupOf(i) };
    });
    await store.registerImages({ taskId, images: images.slice(0, 225) });
    await store.registerImages({ taskId, images: images.slice(225) });
    await store.deleteImages({ taskId, imgIds: [imageId(taskId, 7), imageId(taskId, 300)] });

    // Act
    const columns = await readImageColumns(contextOf(config), taskId, Date.now() + 30_000);

    // Assert
    const kept = Array.from({ length: 450 }, (_, k) => k + 1).filter((i) => i !== 7 && i !== 300);
    expect(columns.ids).toEqual(kept.map((i) => imageId(taskId, i)));
    expect([...columns.orderIds]).toEqual(kept.map((i) => 451 - i));
    expect(new Set(columns.labels).size).toBe(columns.labels.length);
    expect([...columns.labels].sort()).toEqual(["label-0", "label-1", "label-2"]);
    expect(new Set(columns.groups).size).toBe(columns.groups.length);
    expect(columns.groups).toHaveLength(32); // i % 40, less the multiples of 5
    kept.forEach((i, k) => {
      const label = columns.labelOf[k]!;
      const group = columns.groupOf[k]!;
      expect(label === -1 ? undefined : columns.labels[label]).toBe(labelOf(i));
      expect(group === -1 ? undefined : columns.groups[group]).toBe(groupOf(i));
    });
  });

  it("reads a task smaller than its sample in one Query, and readAllImages gives the same images as objects", async () => {
    const { store, config } = await freshStore();
    const taskId = "small";
    await store.registerImages({
      taskId,
      images: [
        { imgId: "b", imgName: "b.jpg", label: "cat" },
        { imgId: "a", imgName: "a.jpg", group: "p1" },
        { imgId: "c", imgName: "c.jpg", label: "cat", group: "p1" },
      ],
    });
    const ctx = contextOf(config);

    const columns = await readImageColumns(ctx, taskId, Date.now() + 30_000);

    expect(columns).toEqual({
      ids: ["a", "b", "c"],
      orderIds: Float64Array.of(2, 1, 3),
      labelOf: Int32Array.of(-1, 0, 0),
      labels: ["cat"],
      groupOf: Int32Array.of(0, -1, 0),
      groups: ["p1"],
    });
    expect(await readAllImages(ctx, taskId, Date.now() + 30_000)).toEqual([
      { imgId: "a", orderId: 2, group: "p1" },
      { imgId: "b", orderId: 1, label: "cat" },
      { imgId: "c", orderId: 3, label: "cat", group: "p1" },
    ]);
  });
});
