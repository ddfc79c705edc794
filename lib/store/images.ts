import {
  type AttributeValue,
  QueryCommand as EntryQueryCommand,
  type QueryCommandInput as EntryQueryInput,
} from "@aws-sdk/client-dynamodb";
import { QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { forEachLimited, sleep } from "../concurrency.ts";
import { storageUnavailable } from "../errors.ts";
import type { ImageInfo } from "../model.ts";
import type { Item } from "./batch.ts";
import { retrying } from "./client.ts";
import { alphabetOf, splitPoints } from "./key-ranges.ts";
import { orderBlockKey, orderBlockOf, TABLE, TASK_ITEM_SK } from "./table.ts";
import type { StoreContext } from "./task-item.ts";
import { readTombstones } from "./tombstones.ts";

/**
 * The wait for the order index to show what the table already holds (its lag, typically under a
 * second): called before each read again, it backs off, and once INDEX_WAIT_MS (or the deadline)
 * has passed it throws 1500/503 rather than let a listing answer short.
 */
export function indexWait(ctx: StoreContext, taskId: string, deadline: number) {
  const waitUntil = Math.min(deadline, Date.now() + ctx.config.indexWaitMs);
  return async (attempt: number, lacking: string): Promise<void> => {
    if (Date.now() >= waitUntil) {
      throw storageUnavailable(
        new Error(`order index still lacks ${lacking} of ${taskId} after ${attempt} reads`),
        true,
      );
    }
    await sleep(Math.min(50 * 2 ** attempt, 500));
  };
}

/** Queries every page of `input`, stopping early when `stop(item)` says so. */
export async function queryAll(
  ctx: StoreContext,
  input: QueryCommandInput,
  deadline: number,
  stop: (item: Item) => boolean = () => false,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const out = await retrying(deadline, () =>
      ctx.db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })),
    );
    for (const item of (out.Items ?? []) as Item[]) {
      if (stop(item)) return items;
      items.push(item);
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** An item or order-index entry as DynamoDB sends it: attribute values, not yet converted. */
type WireItem = Record<string, AttributeValue>;

/** Ids a split first samples to learn which characters the task's ids use (and its lowest id). */
const SAMPLE = 100;

/**
 * Every image of a task as a split plans over it, one column per field: image i is `ids[i]`,
 * `orderIds[i]`, … in img_id order. A label or a group is a number into its list of distinct names
 * (-1: none), so a million images hold a thousand label strings, not a million.
 */
export interface StoredImages {
  ids: string[];
  orderIds: Float64Array;
  labelOf: Int32Array;
  labels: string[];
  groupOf: Int32Array;
  groups: string[];
}

/** Names numbered in order of first appearance. */
class Names {
  readonly list: string[] = [];
  private readonly numbers = new Map<string, number>();

  numberOf(value: AttributeValue | undefined): number {
    const name = value?.S;
    if (name === undefined) return -1;
    let k = this.numbers.get(name);
    if (k === undefined) {
      k = this.list.length;
      this.numbers.set(name, k);
      this.list.push(name);
    }
    return k;
  }
}

/** One key range's images, appended page by page as DynamoDB sends them (never converted to objects). */
class RangeColumns {
  readonly ids: string[] = [];
  readonly orderIds: number[] = [];
  readonly labelOf: number[] = [];
  readonly groupOf: number[] = [];

  constructor(
    private readonly labels: Names,
    private readonly groups: Names,
  ) {}

  add(item: WireItem): void {
    // A deleted image keeps its item (and its order_id, never given out again) but is in no split.
    if (item.deleted?.BOOL === true) return;
    this.ids.push(item[TABLE.sortKey]?.S as string);
    this.orderIds.push(Number(item.order_id?.N));
    this.labelOf.push(this.labels.numberOf(item.label));
    this.groupOf.push(this.groups.numberOf(item.group));
  }
}

/** The ranges' columns end to end. */
function joined(parts: readonly RangeColumns[], labels: Names, groups: Names): StoredImages {
  const n = parts.reduce((sum, part) => sum + part.ids.length, 0);
  const images: StoredImages = {
    ids: new Array<string>(n),
    orderIds: new Float64Array(n),
    labelOf: new Int32Array(n),
    labels: labels.list,
    groupOf: new Int32Array(n),
    groups: groups.list,
  };
  let at = 0;
  for (const part of parts) {
    for (let k = 0; k < part.ids.length; k++) images.ids[at + k] = part.ids[k] as string;
    images.orderIds.set(part.orderIds, at);
    images.labelOf.set(part.labelOf, at);
    images.groupOf.set(part.groupOf, at);
    at += part.ids.length;
  }
  return images;
}

/**
 * Every image of a task, read with strongly consistent Queries of the table (never the lagging
 * index), so a split sees every image registered before it began. Beyond a small sample, the ids
 * from the lowest to the highest are cut into key ranges read side by side. Each page goes into the
 * columns as it arrives: no page is kept, and no image becomes an object.
 */
export async function readImageColumns(ctx: StoreContext, taskId: string, deadline: number): Promise<StoredImages> {
  const query = (condition: string, values: Record<string, string>, extra: Partial<EntryQueryInput> = {}) =>
    ({
      TableName: ctx.table,
      KeyConditionExpression: `#pk = :t AND ${condition}`,
      ProjectionExpression: "#sk, order_id, label, #group, deleted",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey, "#group": "group" },
      ExpressionAttributeValues: Object.fromEntries(
        Object.entries({ ":t": taskId, ...values }).map(([name, value]) => [name, { S: value }]),
      ),
      ConsistentRead: true,
      ...extra,
    }) satisfies EntryQueryInput;
  const labels = new Names();
  const groups = new Names();
  const images = query("#sk > :task", { ":task": TASK_ITEM_SK });
  const [sample, last] = await Promise.all([
    retrying(deadline, () => ctx.db.send(new EntryQueryCommand({ ...images, Limit: SAMPLE }))),
    retrying(deadline, () => ctx.db.send(new EntryQueryCommand({ ...images, ScanIndexForward: false, Limit: 1 }))),
  ]);
  const low = sample.Items?.[0]?.[TABLE.sortKey]?.S;
  const high = last.Items?.[0]?.[TABLE.sortKey]?.S;
  if (!sample.LastEvaluatedKey || low === undefined || high === undefined) {
    const all = new RangeColumns(labels, groups);
    for (const item of sample.Items ?? []) all.add(item);
    return joined([all], labels, groups);
  }
  // The sample shows which characters the ids use (digits only, for the platform's ids).
  const alphabet = alphabetOf([...(sample.Items ?? []).map((item) => item[TABLE.sortKey]?.S as string), high]);
  const bounds = splitPoints(low, high, ctx.config.concurrency, alphabet);
  const parts = Array.from({ length: bounds.length + 1 }, () => new RangeColumns(labels, groups));
  await forEachLimited([...parts.keys()], ctx.config.concurrency, async (i) => {
    // Range i is [from, to): bounded on the server, so no range reads (and pays for) its neighbours' items.
    const from = i === 0 ? low : (bounds[i - 1] as string);
    const to = bounds[i];
    const input =
      to === undefined
        ? query("#sk >= :from", { ":from": from })
        : query("#sk BETWEEN :from AND :to", { ":from": from, ":to": to });
    let startKey: WireItem | undefined;
    do {
      const out = await retrying(deadline, () =>
        ctx.db.send(new EntryQueryCommand({ ...input, ExclusiveStartKey: startKey })),
      );
      for (const item of out.Items ?? []) {
        if (to === undefined || (item[TABLE.sortKey]?.S as string) < to) parts[i]!.add(item);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  });
  return joined(parts, labels, groups);
}

/** An image as tools and tests read it: one object each (a split reads the columns). */
export interface StoredImage {
  imgId: string;
  orderId: number;
  label?: string;
  group?: string;
}

/** Every image of a task, as objects (see readImageColumns). */
export async function readAllImages(ctx: StoreContext, taskId: string, deadline: number): Promise<StoredImage[]> {
  const { ids, orderIds, labelOf, labels, groupOf, groups } = await readImageColumns(ctx, taskId, deadline);
  return ids.map((imgId, i) => ({
    imgId,
    orderId: orderIds[i] as number,
    ...(labelOf[i] === -1 ? {} : { label: labels[labelOf[i] as number] as string }),
    ...(groupOf[i] === -1 ? {} : { group: groups[groupOf[i] as number] as string }),
  }));
}

/** Order-index Queries cover at most this many order_ids each, so one page's reads run side by side. */
const RANGE_SPAN = 2_500;

interface IndexRange {
  block: number;
  from: number;
  to: number;
  members: number[];
}

/** Ranges [from, to] of order_ids, each inside one index block and at most RANGE_SPAN wide, covering `orderIds` (ascending). */
function indexRanges(orderIds: readonly number[]): IndexRange[] {
  const ranges: IndexRange[] = [];
  for (const orderId of orderIds) {
    const block = orderBlockOf(orderId);
    const last = ranges.at(-1);
    if (last && last.block === block && orderId - last.from < RANGE_SPAN) {
      last.to = orderId;
      last.members.push(orderId);
    } else {
      ranges.push({ block, from: orderId, to: orderId, members: [orderId] });
    }
  }
  return ranges;
}

const numberOf = (value: AttributeValue | undefined) => (value?.N === undefined ? undefined : Number(value.N));

const entryOrderId = (entry: WireItem): number => Number(entry[TABLE.orderIndex.sortKey]?.N);

const toInfo = (entry: WireItem): ImageInfo => ({
  img_name: entry.img_name?.S as string,
  img_id: entry[TABLE.sortKey]?.S as string,
  state: numberOf(entry.state) as number,
  order_id: entryOrderId(entry),
});

/**
 * Every entry of one order-index range: only the attributes a listing shows, and left as DynamoDB
 * sends them (not through the DocumentClient's conversion), so that the many entries of a sparse
 * set's range that are not members cost no more than a look at their order_id.
 */
async function readRange(
  ctx: StoreContext,
  taskId: string,
  range: IndexRange,
  deadline: number,
  each: (entry: WireItem) => void,
): Promise<void> {
  const { indexName, partitionKey, sortKey } = TABLE.orderIndex;
  let startKey: WireItem | undefined;
  do {
    const out = await retrying(deadline, () =>
      ctx.db.send(
        new EntryQueryCommand({
          TableName: ctx.table,
          IndexName: indexName,
          KeyConditionExpression: "#block = :block AND #order BETWEEN :from AND :to",
          ProjectionExpression: "#id, #name, #state, #order",
          ExpressionAttributeNames: {
            "#block": partitionKey,
            "#order": sortKey,
            "#id": TABLE.sortKey,
            "#name": "img_name",
            "#state": "state",
          },
          ExpressionAttributeValues: {
            ":block": { S: orderBlockKey(taskId, range.block) },
            ":from": { N: String(range.from) },
            ":to": { N: String(range.to) },
          },
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    for (const entry of out.Items ?? []) each(entry);
    startKey = out.LastEvaluatedKey;
  } while (startKey);
}

/**
 * The images holding `orderIds` (ascending), read from the order index, the ranges in parallel;
 * undefined for an image deleted since (deletion removes its index key). The index lags the table:
 * when it shows fewer of them than asked, the tombstones of exactly the missing ones tell the
 * deleted ones, and the ranges still missing others are read again for up to INDEX_WAIT_MS, then
 * the page answers 503 rather than silently dropping one.
 */
export async function readByOrder(
  ctx: StoreContext,
  taskId: string,
  orderIds: readonly number[],
  deadline: number,
): Promise<(ImageInfo | undefined)[]> {
  const found = new Map<number, ImageInfo>();
  const gone = new Set<number>();
  const wanted = new Set(orderIds);
  let pending = indexRanges(orderIds);
  const readAgain = indexWait(ctx, taskId, deadline);
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await readAgain(attempt, "images");
    const behind: typeof pending = [];
    await forEachLimited(pending, ctx.config.concurrency, async (range) => {
      await readRange(ctx, taskId, range, deadline, (entry) => {
        const orderId = entryOrderId(entry);
        if (wanted.has(orderId)) found.set(orderId, toInfo(entry));
      });
      if (range.members.some((id) => !found.has(id))) behind.push(range);
    });
    // Asked again each round: an image may be deleted while the index lags its registration.
    const missing = behind.flatMap((range) => range.members.filter((id) => !found.has(id) && !gone.has(id)));
    for (const id of await readTombstones(ctx, taskId, missing, deadline)) gone.add(id);
    pending = behind.filter((range) => range.members.some((id) => !found.has(id) && !gone.has(id)));
  }
  return orderIds.map((id) => found.get(id));
}
