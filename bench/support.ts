/**
 * What the bench measures the store against: image items written straight into the table (seeding
 * big tasks, and the old design's per-image rewrite as a baseline) and read back the plainest way
 * (a strongly consistent parallel Query of the table, a Query of the order index). Every call goes
 * through the same SDK client settings and retry policy as the store (lib/store/client.ts), so a
 * ratio compares the storage work, not the plumbing.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { forEachLimited } from "../lib/concurrency.ts";
import type { StoreConfig } from "../lib/config.ts";
import type { SetSizes } from "../lib/model.ts";
import { beforeResending, createDynamoDbClient, documentClient, retrying } from "../lib/store/client.ts";
import { orderBlockKey, orderBlockOf, TABLE, TASK_ITEM_SK } from "../lib/store/table.ts";
import { LAYOUT } from "../lib/store/task-item.ts";
import { numberSize } from "../test/support/capacity-model/index.ts";

/** One measured value, beside the baseline measured in the same run. */
export interface Measure {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, measured in the same run. */
  baseline?: number;
  baselineName?: string;
  writeUnits?: number;
  readUnits?: number;
  /** Met when value / baseline ≤ ratio, or value ≤ max. */
  target?: { ratio?: number; max?: number };
  note?: string;
}

/** Calls in flight in every raw baseline: the store's default STORAGE_CONCURRENCY. */
export const RAW_CONCURRENCY = 16;

/** A DocumentClient with the store's own client settings (no SDK retries, keep-alive), at `endpoint`. */
export const rawClient = (config: StoreConfig, endpoint: string): DynamoDBDocumentClient =>
  documentClient(createDynamoDbClient({ ...config, endpoint }));

/** Image i's id: 19 digits, like the platform's ids; ascending i sorts ascending. */
export const imageIdOf = (i: number) => `2018070417${String(i).padStart(9, "0")}`;

/** Distinct labels and groups of a tagged task, and their lengths in characters. */
export const TAGGED = { labels: 1_000, labelChars: 16, groups: 250_000, groupChars: 24 } as const;

/** Label k of a tagged task: `label-` and k in 10 digits. */
export const labelName = (k: number) => `label-${String(k).padStart(TAGGED.labelChars - 6, "0")}`;
/** Group k of a tagged task: `group-` and k in 18 digits. */
export const groupName = (k: number) => `group-${String(k).padStart(TAGGED.groupChars - 6, "0")}`;

/**
 * Image i's label and group numbers in a tagged task: labels spread over the ids by a
 * multiplicative hash, groups of 4 images (for a million) i, i + 250,000, … far apart in id order.
 */
export const labelOfImage = (i: number) => (i * 7_919) % TAGGED.labels;
export const groupOfImage = (i: number) => i % TAGGED.groups;

const tagsOf = (i: number) => ({ label: labelName(labelOfImage(i)), group: groupName(groupOfImage(i)) });

/** Image i of a task as registration leaves it: order_id i, its order-index key; `tagged`: its label and group. */
export const imageItem = (taskId: string, i: number, state = 0, tagged = false): Record<string, string | number> => ({
  [TABLE.partitionKey]: taskId,
  [TABLE.sortKey]: imageIdOf(i),
  img_name: `img_${i}.jpg`,
  state,
  order_id: i,
  ...(tagged ? tagsOf(i) : {}),
  [TABLE.orderIndex.partitionKey]: orderBlockKey(taskId, orderBlockOf(i)),
});

/** Bytes of an item as DynamoDB sizes it (names + values). */
export const itemBytes = (item: Record<string, string | number>): number =>
  Object.entries(item).reduce(
    (sum, [name, value]) =>
      sum +
      Buffer.byteLength(name) +
      (typeof value === "string" ? Buffer.byteLength(value) : numberSize(String(value))),
    0,
  );

/** 70 / 10 / 20 % of n (training / testing / verifying). */
export const usualCounts = (n: number): SetSizes => ({
  0: Math.floor(n * 0.7),
  1: Math.floor(n * 0.1),
  2: Math.floor(n * 0.2),
});

/**
 * Puts images first..first+count-1 of `taskId` with BatchWriteItem, 25 a call, RAW_CONCURRENCY
 * calls in flight, unprocessed items sent again after a jittered backoff (as lib/store/batch.ts).
 * Items are built batch by batch, so a million costs no memory.
 */
export async function rawWrite(
  db: DynamoDBDocumentClient,
  table: string,
  taskId: string,
  count: number,
  options: { first?: number; state?: number; deadline?: number; tagged?: boolean } = {},
): Promise<void> {
  const first = options.first ?? 1;
  const deadline = options.deadline ?? Date.now() + 3_600_000;
  const batches = Array.from({ length: Math.ceil(count / 25) }, (_, b) => b);
  await forEachLimited(batches, RAW_CONCURRENCY, async (b) => {
    const from = first + b * 25;
    const to = Math.min(first + count, from + 25);
    let pending = Array.from({ length: to - from }, (_, k) => ({
      PutRequest: { Item: imageItem(taskId, from + k, options.state ?? 0, options.tagged) },
    }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await beforeResending(attempt, deadline, () => `${pending.length} items still unprocessed`);
      const out = await retrying(deadline, () =>
        db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } })),
      );
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  });
}

/**
 * A task of `count` images seeded straight into the table (not through registration): the image
 * items (`tagged`: with labels and groups) and the task item as registration would have left them.
 */
export async function seedTask(
  db: DynamoDBDocumentClient,
  table: string,
  taskId: string,
  count: number,
  options: { tagged?: boolean } = {},
) {
  await rawWrite(db, table, taskId, count, options);
  await db.send(
    new UpdateCommand({
      TableName: table,
      Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: TASK_ITEM_SK },
      UpdateExpression: "SET layout = :layout, next_order = :last, image_count = :n",
      ExpressionAttributeValues: { ":layout": LAYOUT, ":last": count, ":n": count },
    }),
  );
}

/** Queries every page of one key range, returning how many items it read. */
async function queryCount(
  db: DynamoDBDocumentClient,
  input: ConstructorParameters<typeof QueryCommand>[0],
  deadline: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<number> {
  let got = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await retrying(deadline, () =>
      db.send(
        new QueryCommand({
          ...input,
          ExclusiveStartKey: startKey,
          ...(Number.isFinite(limit) ? { Limit: limit - got } : {}),
        }),
      ),
    );
    got += page.Items?.length ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey && got < limit);
  return got;
}

/**
 * Every image item of a task seeded with `count` images, read with strongly consistent Queries of
 * the table, RAW_CONCURRENCY key ranges in parallel (the ranges cut from the known ids): what a
 * split must read at least.
 */
export async function rawRead(db: DynamoDBDocumentClient, table: string, taskId: string, count: number) {
  const deadline = Date.now() + 3_600_000;
  const parts = Math.min(RAW_CONCURRENCY, count);
  const bounds = Array.from({ length: parts + 1 }, (_, k) => 1 + Math.floor((count * k) / parts));
  let total = 0;
  await forEachLimited([...Array(parts).keys()], RAW_CONCURRENCY, async (k) => {
    const got = await queryCount(
      db,
      {
        TableName: table,
        KeyConditionExpression: "#pk = :t AND #sk BETWEEN :from AND :to",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
        ExpressionAttributeValues: {
          ":t": taskId,
          ":from": imageIdOf(bounds[k]!),
          ":to": imageIdOf(bounds[k + 1]! - 1),
        },
        ConsistentRead: true,
      },
      deadline,
    );
    total += got;
  });
  if (total !== count) throw new Error(`raw read of ${taskId} found ${total} images, expected ${count}`);
}

/** The first `limit` entries of the task's first order-index block, one Query (and its next pages). */
export async function rawIndexPage(db: DynamoDBDocumentClient, table: string, taskId: string, limit: number) {
  const { indexName, partitionKey } = TABLE.orderIndex;
  const got = await queryCount(
    db,
    {
      TableName: table,
      IndexName: indexName,
      KeyConditionExpression: "#k = :k",
      ExpressionAttributeNames: { "#k": partitionKey },
      ExpressionAttributeValues: { ":k": orderBlockKey(taskId, 0) },
    },
    Date.now() + 60_000,
    limit,
  );
  if (got !== limit) throw new Error(`raw index query read ${got}, expected ${limit}`);
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}
