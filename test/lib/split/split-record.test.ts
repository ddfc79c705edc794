import { describe, expect, it } from "vitest";
import { LIST_BYTES } from "../../../lib/capped.ts";
import { carriedBytes } from "../../../lib/http/answer-size.ts";
import { DEFAULT_SPLIT_OPTIONS } from "../../../lib/model.ts";
import { counts, freshStore, imageId, registerImages, split } from "../../support/store.ts";

/** 128 characters of quotes, backslashes and 4-byte characters: a label at its most expensive to carry. */
const worstLabel = (i: number) => `${String(i).padStart(4, "0")}${'"\\𠜎'.repeat(41)}x`;

describe("a split's record", () => {
  it("keeps the moved and newly assigned counts the split answered, each under its own name", async () => {
    // Arrange: 30 images split with 10 left out, then 10 more registered
    const { store } = await freshStore();
    const taskId = "record-moves";
    await registerImages(store, taskId, 30);
    await split(store, { taskId, counts: counts(10, 5, 5), seed: "first" });
    await registerImages(store, taskId, 10, 31);

    // Act
    const second = await split(store, { taskId, counts: counts(20, 10, 5), seed: "second" });

    // Assert
    const details = second.details!;
    expect(details.moved).not.toBe(details.newlyAssigned);
    const record = (await store.taskSummary(taskId)).live!;
    expect(record).toMatchObject({ version: 2, moved: details.moved, newlyAssigned: details.newlyAssigned });
  });

  it("caps its rare labels in bytes, with their total, however many labels are rare", async () => {
    // Arrange: 400 labels over 1,000 images; the 200 labels of 2 images are rare with three sets
    const { store } = await freshStore();
    const taskId = "record-rare";
    for (let start = 0; start < 1_000; start += 500) {
      const images = Array.from({ length: 500 }, (_, k) => {
        const i = start + k;
        return { imgId: imageId(taskId, i + 1), imgName: `r${i}.jpg`, label: worstLabel(i % 400) };
      });
      await store.registerImages({ taskId, images });
    }
    const options = { ...DEFAULT_SPLIT_OPTIONS, stratifyBy: "label" as const, rareLabels: "random" as const };

    // Act
    const result = await split(store, { taskId, counts: counts(600, 200, 200), seed: "rare", options });

    // Assert: the answer and the record carry the same capped list
    const rare = result.details!.rareLabels;
    expect(rare.total).toBe(200);
    expect(rare.items.length).toBeGreaterThan(0);
    expect(rare.items.length).toBeLessThan(200);
    expect(carriedBytes(rare.items)).toBeLessThanOrEqual(LIST_BYTES);
    const record = (await store.taskSummary(taskId)).live!;
    expect(record.rareLabels).toEqual(rare);
  });
});
