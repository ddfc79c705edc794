import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { TABLE } from "../../../lib/store/table.ts";
import { counts, freshStore, registerImages, seedImages, split } from "../../support/store.ts";
import { byOrder, db, ids, readAllListed, setsOf } from "./image-listing.ts";

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
