import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect, inject } from "vitest";
import { chunk, forEachLimited } from "../../lib/concurrency.ts";
import { readConfig, type StoreConfig } from "../../lib/config.ts";
import { ServiceError } from "../../lib/errors.ts";
import {
  type ImageInfo,
  SET_TYPES,
  type SetCursor,
  type SetSizes,
  type SetType,
  type SplitResult,
  type SplitSpec,
} from "../../lib/model.ts";
import { splitTask } from "../../lib/split/split.ts";
import { documentClient } from "../../lib/store/client.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { orderBlockKey, orderBlockOf, TABLE, TASK_ITEM_SK } from "../../lib/store/table.ts";
import { LAYOUT } from "../../lib/store/task-item.ts";

export const localClient = () =>
  new DynamoDBClient({
    endpoint: inject("dynamoEndpoint"),
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });

/** A store over a fresh table of its own in the suite's DynamoDB Local. */
export async function freshStore(
  overrides: Partial<StoreConfig> = {},
  client?: DynamoDBClient,
): Promise<{ store: Store; config: StoreConfig }> {
  const config = {
    ...readConfig(),
    endpoint: inject("dynamoEndpoint"),
    tableName: `t-${randomUUID()}`,
    ...overrides,
  };
  const store = createStore(config, client);
  await store.ensureTable();
  return { store, config };
}

/** A fresh table reached both through `endpoint` (a fault proxy: `faulty`) and directly (`truth`). */
export async function storesThrough(
  endpoint: string,
  overrides: Partial<StoreConfig> = {},
): Promise<{ faulty: Store; truth: Store }> {
  const { store: truth, config } = await freshStore(overrides);
  return { faulty: createStore({ ...config, endpoint }), truth };
}

export const imageId = (task: string, i: number) => `${task.slice(0, 8)}${String(i).padStart(11, "0")}`;

/** Registers images 1..count (names img_i.jpg) in requests of up to 1000, as the platform would. */
export async function registerImages(store: Store, taskId: string, count: number, firstIndex = 1) {
  for (let start = firstIndex; start < firstIndex + count; start += 1000) {
    const end = Math.min(firstIndex + count, start + 1000);
    const images = [];
    for (let i = start; i < end; i++) images.push({ imgId: imageId(taskId, i), imgName: `img_${i}.jpg`, state: 0 });
    await store.registerImages({ taskId, images });
  }
}

/**
 * Writes images first..first+count-1 straight into the table, as registration would have left them
 * (order_id i, index key, the task item's counter and count), for tests that need big tasks but do
 * not test registration: registering 60,000 images through transactions takes tens of seconds.
 */
export async function seedImages(config: StoreConfig, taskId: string, count: number, first = 1) {
  const db = documentClient(localClient());
  const items = Array.from({ length: count }, (_, k) => {
    const i = first + k;
    return {
      [TABLE.partitionKey]: taskId,
      [TABLE.sortKey]: imageId(taskId, i),
      img_name: `img_${i}.jpg`,
      state: 0,
      order_id: i,
      [TABLE.orderIndex.partitionKey]: orderBlockKey(taskId, orderBlockOf(i)),
    };
  });
  await forEachLimited(chunk(items, 25), 8, async (batch) => {
    let pending = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [config.tableName]: pending } }));
      pending = (out.UnprocessedItems?.[config.tableName] ?? []) as typeof pending;
    }
  });
  await db.send(
    new UpdateCommand({
      TableName: config.tableName,
      Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: TASK_ITEM_SK },
      UpdateExpression: "SET layout = :layout, next_order = :last ADD image_count :n",
      ExpressionAttributeValues: { ":layout": LAYOUT, ":last": first + count - 1, ":n": count },
    }),
  );
}

/** Every image of one set, following next_cursor page by page. */
export async function readWholeSet(store: Store, taskId: string, setType: SetType, limit = 5000): Promise<ImageInfo[]> {
  const images: ImageInfo[] = [];
  let cursor: SetCursor | undefined;
  do {
    try {
      const page = await store.listSet({ taskId, setType, limit, cursor });
      images.push(...page.images);
      cursor = page.nextCursor;
    } catch (error) {
      if ((error as { code?: number }).code === 1010 && !cursor) return [];
      throw error;
    }
  } while (cursor);
  return images;
}

/**
 * Guarantee 1 (docs/design.md): each set lists exactly the split's images, once each, in ascending order_id;
 * no image is in two sets; every image keeps the order_id it was registered with.
 */
export async function expectCompleteSplit(
  store: Store,
  split: SplitResult,
  orderOf: (imgId: string) => number | undefined,
) {
  const seen = new Set<string>();
  for (const setType of SET_TYPES) {
    const listed = await readWholeSet(store, split.taskId, setType);
    const ids = listed.map((image) => image.img_id);
    expect(new Set(ids)).toEqual(new Set(split.drawn[setType]));
    expect(ids).toHaveLength(split.drawn[setType].length);
    const orders = listed.map((image) => image.order_id);
    expect(orders).toEqual([...orders].sort((a, b) => a - b));
    for (const image of listed) {
      expect(seen.has(image.img_id)).toBe(false);
      seen.add(image.img_id);
      expect(image.order_id).toBe(orderOf(image.img_id));
    }
  }
}

/** order_id of the images registered by registerImages: image i has order i when registered in index order. */
export const registrationOrder = (taskId: string) => {
  const prefix = taskId.slice(0, 8);
  return (imgId: string) => (imgId.startsWith(prefix) ? Number(imgId.slice(prefix.length)) : undefined);
};

/** Sizes in the order a request names them: training, verifying, testing. */
export const counts = (training: number, verifying: number, testing: number): SetSizes => ({
  0: training,
  1: testing,
  2: verifying,
});

/** The ServiceError code an operation ends with, or 0 when it succeeds; anything else is thrown. */
export async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceError) return error.code;
    throw error;
  }
  return 0;
}

/** A split as the handler makes it. */
export const split = (store: Store, spec: SplitSpec, deadline?: number) => splitTask(store, spec, deadline);
