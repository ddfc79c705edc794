import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { LIST_BYTES } from "../../lib/capped.ts";
import { DEFAULT_SPLIT_OPTIONS } from "../../lib/model.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { TABLE, TASK_ITEM_SK } from "../../lib/store/table.ts";
import { itemSize } from "../support/capacity-model/index.ts";
import { useFaultProxy } from "../support/fault-proxy/index.ts";
import { counts, freshStore, imageId, localClient, split } from "../support/store.ts";

/**
 * Guarantee 9: costs do not grow with a task's past. Through the capacity model, which bills an
 * update by the whole stored item (the larger of before and after), as DynamoDB does.
 */
const proxy = useFaultProxy({ capacity: true });

/** 128 four-byte characters: the longest group or label name, at its most expensive. */
const longName = (i: number) => `${String(i).padStart(4, "0")}${"𠜎".repeat(124)}`;

/** 1,000 images in 250 groups and 200 labels with such names. */
async function registerLabelled(store: Store, taskId: string) {
  for (let start = 0; start < 1_000; start += 500) {
    const images = Array.from({ length: 500 }, (_, k) => {
      const i = start + k + 1;
      return { imgId: imageId(taskId, i), imgName: `img_${i}.jpg`, label: longName(i % 200), group: longName(i % 250) };
    });
    await store.registerImages({ taskId, images });
  }
}

const taskItemBytes = async (tableName: string, taskId: string) => {
  const out = await localClient().send(
    new GetItemCommand({
      TableName: tableName,
      Key: { [TABLE.partitionKey]: { S: taskId }, [TABLE.sortKey]: { S: TASK_ITEM_SK } },
      ConsistentRead: true,
    }),
  );
  return itemSize(out.Item);
};

/** Table write units of registering 99 new images, through the capacity model. */
async function registrationUnits(modelled: Store, taskId: string, first: number) {
  proxy().capacity!.reset();
  const images = Array.from({ length: 99 }, (_, k) => ({ imgId: imageId(taskId, first + k), imgName: "new.jpg" }));
  await modelled.registerImages({ taskId, images });
  return proxy().capacity!.consumed().table.writeUnits;
}

/** Read units of a page of 10 images of the training set, through the capacity model. */
async function pageUnits(modelled: Store, taskId: string) {
  proxy().capacity!.reset();
  const page = await modelled.listSet({ taskId, setType: 0, limit: 10, cursor: undefined });
  expect(page.images).toHaveLength(10);
  return proxy().capacity!.consumed().readUnits;
}

describe("a task's past costs nothing (guarantee 9)", () => {
  it("25 splits of 1,000 images in 250 groups and 200 labels of 128 four-byte characters: every split 200, the task item under 1 KB, registering and reading cost what they did after one split", async () => {
    // Arrange
    const { store, config } = await freshStore();
    const modelled = createStore({ ...config, endpoint: proxy().endpoint });
    const taskId = "long-history";
    await registerLabelled(store, taskId);
    const stratified = { ...DEFAULT_SPLIT_OPTIONS, stratifyBy: "label" as const };
    await split(store, { taskId, counts: counts(600, 200, 200), seed: "s1", options: stratified });
    const sizeAfterOne = await taskItemBytes(config.tableName, taskId);
    const registerAfterOne = await registrationUnits(modelled, taskId, 2_001);
    const pageAfterOne = await pageUnits(modelled, taskId);

    // Act: 24 more splits, plain ones (every group leaks) and stratified ones in turn
    const versions: number[] = [];
    for (let i = 2; i <= 25; i++) {
      const options = i % 2 === 0 ? undefined : stratified;
      versions.push((await split(store, { taskId, counts: counts(600, 200, 200), seed: `s${i}`, options })).version);
    }

    // Assert
    expect(versions).toEqual(Array.from({ length: 24 }, (_, k) => k + 2));
    const sizeAfter25 = await taskItemBytes(config.tableName, taskId);
    expect(sizeAfter25).toBeLessThan(1_024);
    expect(sizeAfter25 - sizeAfterOne).toBeLessThan(400);
    expect(await registrationUnits(modelled, taskId, 3_001)).toBeLessThanOrEqual(registerAfterOne * 1.15);
    expect(await pageUnits(modelled, taskId)).toBe(pageAfterOne);
    // the history is the newest 20 published records, each list capped in bytes with its total
    const summary = await store.taskSummary(taskId);
    expect(summary.history.map((record) => record.version)).toEqual(Array.from({ length: 20 }, (_, k) => 25 - k));
    const plain = summary.history.find((record) => record.spec.options === undefined)!;
    // groups of 4 images over sets of 60%, 20%, 20%: most groups leak
    expect(plain.leakedGroups.total).toBeGreaterThan(150);
    expect(plain.leakedGroups.items.length).toBeGreaterThan(0);
    expect(plain.leakedGroups.items.length).toBeLessThan(plain.leakedGroups.total);
    expect(Buffer.byteLength(JSON.stringify(plain.leakedGroups.items))).toBeLessThanOrEqual(LIST_BYTES);
    const stratifiedRecord = summary.history.find((record) => record.spec.options !== undefined)!;
    expect(stratifiedRecord.labelCounts.total).toBeGreaterThanOrEqual(200);
    expect(stratifiedRecord.labelCounts.items.length).toBeLessThan(200);
  });
});
