import { randomUUID } from "node:crypto";
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { backoffMs, chunk, forEachLimited, sleep } from "./concurrency.ts";
import type { StoreConfig } from "./config.ts";
import { ServiceError, storageUnavailable } from "./errors.ts";
import { splitPoints } from "./key-ranges.ts";
import {
  type Cursor,
  HISTORY_LENGTH,
  type ImageInfo,
  type ListQuery,
  type RegisterRequest,
  type RegisterResult,
  SET_TYPES,
  type SetPage,
  type SetSizes,
  type SetType,
  type Slot,
  type SplitRecord,
  type SplitResult,
  type SplitSpec,
  type TaskSummary,
} from "./model.ts";
import { BLOCK_SIZE, blockCount, planSplitWith, type SplitPlanReport } from "./plan.ts";
import { drawSeed } from "./shuffle.ts";
import { otherSlot, setKey, slotAttribute, TABLE, TASK_ITEM_SK } from "./table.ts";

type Item = Record<string, unknown>;

/** What the task item records about the split version a slot holds. */
interface SlotRecord {
  version: number;
  /** Set sizes indexed by set type. */
  sizes: [number, number, number];
  seed: string;
  split_at: string;
  unassigned: number;
  /** How the split was asked for and what it gave (absent on records written before it existed). */
  split?: SplitRecord;
}

/** Labels kept in a recorded histogram, so a task item stays far below DynamoDB's 400 KB. */
const RECORDED_LABELS = 200;

interface TaskItem {
  task_id: string;
  next_order?: number;
  image_count?: number;
  version_seq?: number;
  live_slot?: Slot;
  slot_a?: SlotRecord;
  slot_b?: SlotRecord;
  lease_owner?: string;
  lease_expires?: number;
  /** The last splits, newest first, without their label histograms. */
  history?: SplitRecord[];
}

interface Lease {
  taskId: string;
  owner: string;
  expiresAt: number;
}

const THROTTLING = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "LimitExceededException",
]);

const isLoopback = (endpoint: string | undefined) =>
  endpoint !== undefined && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint);

const taskKey = (taskId: string) => ({ [TABLE.partitionKey]: taskId, [TABLE.sortKey]: TASK_ITEM_SK });
const slotRecord = (task: TaskItem, slot: Slot) => (slot === "a" ? task.slot_a : task.slot_b);

export interface Store {
  /** Creates the table with its slot indexes when it does not exist yet. */
  ensureTable(): Promise<void>;
  /** One split: lease, write the idle slot, wait for its index, flip. A dry run only plans. */
  splitTask(request: SplitSpec): Promise<SplitResult>;
  /** One page of one set of the live (or the cursor's) split version. */
  listSet(query: ListQuery): Promise<SetPage>;
  /** Idempotent upsert of image rows; new images get the task's next order_ids. */
  registerImages(request: RegisterRequest): Promise<RegisterResult>;
  /** The live split of a task as recorded on its task item, or undefined when never split. */
  lastSplit(taskId: string): Promise<{ spec: SplitRecord["spec"]; version: number } | undefined>;
  /** The live split and the recent ones; 1003 for a task without images. */
  taskSummary(taskId: string): Promise<TaskSummary>;
}

/**
 * The only module that talks to DynamoDB. Every SDK failure leaves it as a ServiceError:
 * throttling that outlasts the retries is 1500 with 503, anything else 1500 with 500.
 */
export function createStore(config: StoreConfig, client?: DynamoDBClient): Store {
  const raw =
    client ??
    new DynamoDBClient({
      region: config.region,
      endpoint: config.endpoint,
      maxAttempts: config.maxAttempts,
      // DynamoDB Local takes any key; anything else is signed with the usual credential chain.
      ...(isLoopback(config.endpoint) ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
    });
  const db = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const table = config.tableName;

  const getTask = async (taskId: string): Promise<TaskItem | undefined> => {
    const out = await db.send(new GetCommand({ TableName: table, Key: taskKey(taskId), ConsistentRead: true }));
    return out.Item as TaskItem | undefined;
  };

  /** Writes items with BatchWriteItem, retrying unprocessed ones with capped, jittered backoff. */
  const writeBatch = async (items: Item[]): Promise<void> => {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        if (attempt >= config.maxAttempts) {
          throw storageUnavailable(
            new Error(`${pending.length} items still unprocessed after ${attempt} attempts`),
            true,
          );
        }
        await sleep(backoffMs(attempt));
      }
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  };

  /** Reads items by key with BatchGetItem (strongly consistent), retrying unprocessed keys. */
  const readBatch = async (keys: Item[]): Promise<Item[]> => {
    const found: Item[] = [];
    let pending = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        if (attempt >= config.maxAttempts) throw storageUnavailable(new Error("keys still unprocessed"), true);
        await sleep(backoffMs(attempt));
      }
      const out = await db.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...((out.Responses?.[table] ?? []) as Item[]));
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
    }
    return found;
  };

  const countAll = async (input: QueryCommandInput): Promise<number> => {
    let count = 0;
    let startKey: Item | undefined;
    do {
      const out = await db.send(new QueryCommand({ ...input, Select: "COUNT", ExclusiveStartKey: startKey }));
      count += out.Count ?? 0;
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return count;
  };

  // ---- the lease: a conditional write on the task item with an owner token and an expiry ----

  const leaseIsFree = "(attribute_not_exists(lease_owner) OR lease_expires < :now)";

  /** Extends the lease when a third of it is used, so a long split keeps it; fails with 1008 once it was lost. */
  const keepLease = (lease: Lease) => {
    let renewing: Promise<void> | undefined;
    return async () => {
      const now = Date.now();
      if (lease.expiresAt - now > (config.leaseMs * 2) / 3) return;
      renewing ??= (async () => {
        const expiresAt = Date.now() + config.leaseMs;
        try {
          await db.send(
            new UpdateCommand({
              TableName: table,
              Key: taskKey(lease.taskId),
              UpdateExpression: "SET lease_expires = :exp",
              ConditionExpression: "lease_owner = :owner",
              ExpressionAttributeValues: { ":exp": expiresAt, ":owner": lease.owner },
            }),
          );
          lease.expiresAt = expiresAt;
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) throw new ServiceError(1008, { task_id: lease.taskId });
          throw error;
        } finally {
          renewing = undefined;
        }
      })();
      await renewing;
    };
  };

  const releaseLease = async (lease: Lease): Promise<void> => {
    try {
      await db.send(
        new UpdateCommand({
          TableName: table,
          Key: taskKey(lease.taskId),
          UpdateExpression: "REMOVE lease_owner, lease_expires",
          ConditionExpression: "lease_owner = :owner",
          ExpressionAttributeValues: { ":owner": lease.owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };

  /**
   * Takes the task's lease for a split and retires the idle slot in the same write, so a reader
   * holding a cursor into that slot's old version learns it is gone (1015) before any image changes.
   */
  const takeSplitLease = async (taskId: string, observed: TaskItem) => {
    let task = observed;
    for (let attempt = 0; attempt < 5; attempt++) {
      const owner = randomUUID();
      const expiresAt = Date.now() + config.leaseMs;
      const slot: Slot = task.live_slot ? otherSlot(task.live_slot) : "a";
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: table,
            Key: taskKey(taskId),
            UpdateExpression: `SET lease_owner = :owner, lease_expires = :exp ADD version_seq :one REMOVE slot_${slot}`,
            ConditionExpression: `attribute_exists(task_id) AND ${leaseIsFree} AND ${
              task.live_slot ? "live_slot = :live" : "attribute_not_exists(live_slot)"
            }`,
            ExpressionAttributeValues: {
              ":owner": owner,
              ":exp": expiresAt,
              ":now": Date.now(),
              ":one": 1,
              ...(task.live_slot ? { ":live": task.live_slot } : {}),
            },
            ReturnValues: "ALL_NEW",
          }),
        );
        const updated = out.Attributes as TaskItem;
        return { lease: { taskId, owner, expiresAt }, slot, version: updated.version_seq ?? 1, task: updated };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const current = await getTask(taskId);
        if (!current) throw new ServiceError(1003, { task_id: taskId });
        if (current.lease_owner === owner) {
          // Our own write, applied, its answer lost and the SDK's retry refused: the lease is ours.
          return { lease: { taskId, owner, expiresAt }, slot, version: current.version_seq ?? 1, task: current };
        }
        if (current.lease_owner && (current.lease_expires ?? 0) >= Date.now()) {
          throw new ServiceError(1008, { task_id: taskId });
        }
        task = current; // another split flipped between our read and our write: try again on its result
      }
    }
    throw new ServiceError(1008, { task_id: taskId });
  };

  const takeRegisterLease = async (taskId: string) => {
    const deadline = Date.now() + config.registerWaitMs;
    for (let attempt = 0; ; attempt++) {
      const owner = randomUUID();
      const expiresAt = Date.now() + config.leaseMs;
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: table,
            Key: taskKey(taskId),
            UpdateExpression:
              "SET lease_owner = :owner, lease_expires = :exp, next_order = if_not_exists(next_order, :zero), image_count = if_not_exists(image_count, :zero)",
            ConditionExpression: leaseIsFree,
            ExpressionAttributeValues: { ":owner": owner, ":exp": expiresAt, ":now": Date.now(), ":zero": 0 },
            ReturnValues: "ALL_NEW",
          }),
        );
        return { lease: { taskId, owner, expiresAt }, task: out.Attributes as TaskItem };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const current = await getTask(taskId);
        // Our own write, applied, its answer lost and the SDK's retry refused: the lease is ours.
        if (current?.lease_owner === owner) return { lease: { taskId, owner, expiresAt }, task: current };
        if (Date.now() >= deadline) throw new ServiceError(1008, { task_id: taskId });
        await sleep(Math.min(backoffMs(attempt, 50, 500) + 10, Math.max(0, deadline - Date.now())));
      }
    }
  };

  // ---- split ----

  /** Polls the slot index until every block of every set shows exactly the images written to it. */
  const waitForIndex = async (taskId: string, slot: Slot, version: number, sizes: SetSizes) => {
    const index = TABLE.slotIndexes[slot];
    const blocks = SET_TYPES.flatMap((setType) =>
      Array.from({ length: blockCount(sizes[setType]) }, (_, block) => ({
        key: setKey(taskId, version, setType, block),
        expected: Math.min(BLOCK_SIZE, sizes[setType] - block * BLOCK_SIZE),
      })),
    );
    const deadline = Date.now() + config.indexWaitMs;
    let waiting = blocks;
    for (let attempt = 0; waiting.length > 0; attempt++) {
      if (attempt > 0) {
        if (Date.now() >= deadline) {
          throw storageUnavailable(
            new Error(`index ${index.indexName} still behind after ${config.indexWaitMs} ms`),
            true,
          );
        }
        await sleep(backoffMs(attempt, 50, 1000) + 10);
      }
      const behind: typeof blocks = [];
      await forEachLimited(waiting, config.writeConcurrency, async (block) => {
        const count = await countAll({
          TableName: table,
          IndexName: index.indexName,
          KeyConditionExpression: "#k = :k",
          ExpressionAttributeNames: { "#k": index.partitionKey },
          ExpressionAttributeValues: { ":k": block.key },
        });
        if (count !== block.expected) behind.push(block);
      });
      waiting = behind;
    }
  };

  /**
   * Every image item of a task, in img_id order. A task larger than one page is read in parallel:
   * the ids above the first page, up to the highest, are cut into ranges read side by side.
   */
  const readImages = async (taskId: string): Promise<Item[]> => {
    const range = (condition: string, from: string) => ({
      TableName: table,
      KeyConditionExpression: `#pk = :t AND #sk ${condition} :from`,
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
      ExpressionAttributeValues: { ":t": taskId, ":from": from },
      ConsistentRead: true,
    });
    const first = await db.send(new QueryCommand(range(">", TASK_ITEM_SK)));
    const images = (first.Items ?? []) as Item[];
    const after = first.LastEvaluatedKey?.[TABLE.sortKey] as string | undefined;
    if (after === undefined) return images;
    const last = await db.send(new QueryCommand({ ...range(">", after), ScanIndexForward: false, Limit: 1 }));
    const highest = last.Items?.[0]?.[TABLE.sortKey] as string | undefined;
    if (highest === undefined) return images;

    const bounds = splitPoints(after, highest, config.writeConcurrency);
    const parts: Item[][] = new Array(bounds.length + 1);
    await forEachLimited([...parts.keys()], config.writeConcurrency, async (i) => {
      const input = i === 0 ? range(">", after) : range(">=", bounds[i - 1] as string);
      const end = bounds[i];
      const items: Item[] = [];
      let startKey: Item | undefined;
      let reachedEnd = false;
      do {
        const out = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
        for (const item of out.Items ?? []) {
          reachedEnd = end !== undefined && (item[TABLE.sortKey] as string) >= end;
          if (reachedEnd) break;
          items.push(item as Item);
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey && !reachedEnd);
      parts[i] = items;
    });
    for (const part of parts) for (const item of part) images.push(item);
    return images;
  };

  /** Plans over the images as read, each with its set in the live split (keep, lock_testing and `moved` need it). */
  const plan = (request: SplitSpec, task: TaskItem, images: Item[], seed: string): SplitPlanReport => {
    const live = task.live_slot;
    const liveVersion = live ? slotRecord(task, live)?.version : undefined;
    const liveAttribute = live ? slotAttribute(live) : undefined;
    return planSplitWith(
      images.map((item) => {
        const key = liveAttribute ? item[liveAttribute] : undefined;
        // A slot value is task#version#set#block; only the live version's values are current.
        const [, version, setType] = typeof key === "string" ? key.split("#") : [];
        return {
          imgId: item.img_id as string,
          orderId: item.order_id as number,
          label: item.label as string | undefined,
          group: item.group as string | undefined,
          current: Number(version) === liveVersion ? (Number(setType) as SetType) : undefined,
        };
      }),
      request.counts
        ? { counts: request.counts, options: request.options }
        : { ratios: request.ratios, options: request.options },
      seed,
    );
  };

  const resultOf = (
    taskId: string,
    report: SplitPlanReport,
    seed: string,
    version: number,
    dryRun: boolean,
  ): SplitResult => {
    const { drawn, unassignedCount, sizes, setOf: _setOf, blockOf: _blockOf, ...account } = report;
    return { taskId, drawn, unassignedCount, seed, version, details: { ...account, achieved: sizes, dryRun } };
  };

  const splitTask = async (request: SplitSpec): Promise<SplitResult> => {
    const { taskId, counts } = request;
    const observed = await getTask(taskId);
    const total = observed?.image_count ?? 0;
    if (!observed || total === 0) throw new ServiceError(1003, { task_id: taskId });
    if (counts) {
      const sum = counts[0] + counts[1] + counts[2];
      if (sum > total) throw new ServiceError(1007, { sum, total });
    }
    const seed = request.seed ?? drawSeed();

    if (request.options?.dryRun) {
      // Nothing is written, so no lease: the live slot is never written while live, so it reads whole.
      const images = await readImages(taskId);
      if (images.length === 0) throw new ServiceError(1003, { task_id: taskId });
      const liveVersion = observed.live_slot ? (slotRecord(observed, observed.live_slot)?.version ?? 0) : 0;
      return resultOf(taskId, plan(request, observed, images, seed), seed, liveVersion, true);
    }

    const { lease, slot, version, task } = await takeSplitLease(taskId, observed);
    const guard = keepLease(lease);
    try {
      const images = await readImages(taskId);
      if (images.length === 0) throw new ServiceError(1003, { task_id: taskId });
      const report = plan(request, task, images, seed);

      // BatchWriteItem only puts whole items: each carries its other slot unchanged. The items read
      // above are updated in place rather than copied, which matters at a million images.
      const attribute = slotAttribute(slot);
      const writes: Item[] = [];
      images.forEach((item, i) => {
        const setType = report.setOf[i] as SetType | -1;
        if (setType !== -1) {
          item[attribute] = setKey(taskId, version, setType, report.blockOf[i] as number);
        } else if (attribute in item) {
          delete item[attribute];
        } else {
          return; // in no set before, in no set now
        }
        writes.push(item);
      });
      await forEachLimited(chunk(writes, 25), config.writeConcurrency, async (batch) => {
        await guard();
        await writeBatch(batch);
      });
      await guard();
      await waitForIndex(taskId, slot, version, report.sizes);

      const { dryRun: _never, ...options } = request.options ?? {};
      const split: SplitRecord = {
        version,
        seed,
        algorithm: report.algorithm,
        splitAt: new Date().toISOString(),
        spec: {
          ...(request.counts ? { counts: request.counts } : { ratios: request.ratios }),
          ...(request.options ? { options: { ...options, dryRun: false } } : {}),
        } as SplitRecord["spec"],
        requested: report.requested,
        achieved: report.sizes,
        unassigned: report.unassignedCount,
        moved: report.moved,
        leakedGroups: report.leakedGroups.slice(0, RECORDED_LABELS),
        labelCounts: report.labelCounts.slice(0, RECORDED_LABELS),
      };
      const record: SlotRecord = {
        version,
        sizes: [report.sizes[0], report.sizes[1], report.sizes[2]],
        seed,
        split_at: split.splitAt,
        unassigned: report.unassignedCount,
        split,
      };
      const history = [{ ...split, labelCounts: [] }, ...(task.history ?? [])].slice(0, HISTORY_LENGTH);
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: taskKey(taskId),
            UpdateExpression: `SET live_slot = :slot, slot_${slot} = :record, image_count = :count, history = :history REMOVE lease_owner, lease_expires`,
            ConditionExpression: "lease_owner = :owner",
            ExpressionAttributeValues: {
              ":slot": slot,
              ":record": record,
              ":count": images.length,
              ":history": history,
              ":owner": lease.owner,
            },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // The SDK retries a flip whose answer was lost; the retry is refused, yet the flip was ours.
        const after = await getTask(taskId);
        if (after?.live_slot !== slot || slotRecord(after, slot)?.version !== version) {
          throw new ServiceError(1008, { task_id: taskId });
        }
      }
      return resultOf(taskId, report, seed, version, false);
    } catch (error) {
      await releaseLease(lease).catch(() => undefined);
      throw error;
    }
  };

  // ---- list ----

  /** Reads up to `limit` images of one set version from its slot index, walking the blocks in order. */
  const readPage = async (
    taskId: string,
    setType: SetType,
    slot: Slot,
    record: SlotRecord,
    limit: number,
    from: Cursor | undefined,
  ) => {
    const index = TABLE.slotIndexes[slot];
    const size = record.sizes[setType];
    let position = from?.position ?? 0;
    let block = Math.floor(position / BLOCK_SIZE);
    let startKey: Item | undefined =
      from && position % BLOCK_SIZE !== 0
        ? {
            [TABLE.partitionKey]: taskId,
            [TABLE.sortKey]: from.imgId,
            [index.partitionKey]: setKey(taskId, record.version, setType, block),
            [index.sortKey]: from.orderId,
          }
        : undefined;
    const images: ImageInfo[] = [];
    while (images.length < limit && position < size) {
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: index.indexName,
          KeyConditionExpression: "#k = :k",
          ExpressionAttributeNames: { "#k": index.partitionKey },
          ExpressionAttributeValues: { ":k": setKey(taskId, record.version, setType, block) },
          ExclusiveStartKey: startKey,
          Limit: Math.min(limit - images.length, BLOCK_SIZE),
        }),
      );
      for (const item of out.Items ?? []) {
        images.push({
          img_name: item.img_name as string,
          img_id: item.img_id as string,
          state: item.state as number,
          order_id: item.order_id as number,
        });
      }
      position += out.Items?.length ?? 0;
      startKey = out.LastEvaluatedKey;
      if (!startKey) {
        // The block ended; every block but the last holds exactly BLOCK_SIZE images.
        if (position !== Math.min(size, (block + 1) * BLOCK_SIZE)) return undefined;
        block++;
      }
    }
    const last = images.at(-1);
    const nextCursor: Cursor | undefined =
      position < size && last
        ? { taskId, setType, version: record.version, slot, position, orderId: last.order_id, imgId: last.img_id }
        : undefined;
    return { images, nextCursor };
  };

  const listSet = async ({ taskId, setType, limit, cursor }: ListQuery): Promise<SetPage> => {
    const empty = new ServiceError(1010, { task_id: taskId, set_type_id: setType });
    for (let attempt = 0; attempt < 5; attempt++) {
      const task = await getTask(taskId);
      if (!task?.live_slot) throw empty;
      const slot = cursor?.slot ?? task.live_slot;
      const record = slotRecord(task, slot);
      if (cursor && record?.version !== cursor.version) throw new ServiceError(1015);
      if (!record || record.sizes[setType] === 0) throw empty;
      if (cursor && cursor.position >= record.sizes[setType]) throw new ServiceError(1012);

      const page = await readPage(taskId, setType, slot, record, limit, cursor);
      // Seqlock: the page is a snapshot of that version only if no split retired the slot meanwhile.
      const after = await getTask(taskId);
      if (page && after && slotRecord(after, slot)?.version === record.version) {
        return { taskId, images: page.images, nextCursor: page.nextCursor };
      }
      if (cursor) throw new ServiceError(1015);
    }
    throw storageUnavailable(new Error("set kept changing while being read"), true);
  };

  // ---- register ----

  const registerImages = async ({ taskId, images }: RegisterRequest): Promise<RegisterResult> => {
    const { lease, task } = await takeRegisterLease(taskId);
    const guard = keepLease(lease);
    try {
      const existing = new Map<string, Item>();
      // A task that never had an image has none to look up.
      const lookups = task.next_order ? chunk(images, 100) : [];
      await forEachLimited(lookups, config.writeConcurrency, async (keys) => {
        const found = await readBatch(
          keys.map((image) => ({ [TABLE.partitionKey]: taskId, [TABLE.sortKey]: image.imgId })),
        );
        for (const item of found) existing.set(item.img_id as string, item);
      });
      const added = images.filter((image) => !existing.has(image.imgId));
      let nextOrder = task.next_order ?? 0;
      let total = task.image_count ?? 0;
      if (added.length > 0) {
        // Order ids are taken before the rows are written, so a crash can leave a gap but never a duplicate.
        // Conditional on the counter as read, so the SDK's retry of an applied update cannot apply it twice.
        const seen = task.next_order ?? 0;
        try {
          const out = await db.send(
            new UpdateCommand({
              TableName: table,
              Key: taskKey(taskId),
              UpdateExpression: "SET next_order = next_order + :n, image_count = image_count + :n",
              ConditionExpression: "lease_owner = :owner AND next_order = :seen",
              ExpressionAttributeValues: { ":n": added.length, ":owner": lease.owner, ":seen": seen },
              ReturnValues: "UPDATED_NEW",
            }),
          );
          total = out.Attributes?.image_count as number;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          const current = await getTask(taskId);
          if (current?.lease_owner !== lease.owner || current.next_order !== seen + added.length) {
            throw new ServiceError(1008, { task_id: taskId });
          }
          total = current.image_count ?? 0;
        }
        nextOrder = seen;
      }
      const writes: Item[] = [];
      for (const image of images) {
        const known = existing.get(image.imgId);
        // label and group are kept when a later registration leaves them out.
        const fields = {
          img_name: image.imgName,
          state: image.state,
          ...(image.label === undefined ? {} : { label: image.label }),
          ...(image.group === undefined ? {} : { group: image.group }),
        };
        if (!known) {
          writes.push({ [TABLE.partitionKey]: taskId, [TABLE.sortKey]: image.imgId, ...fields, order_id: ++nextOrder });
        } else if (Object.entries(fields).some(([name, value]) => known[name] !== value)) {
          writes.push({ ...known, ...fields });
        }
      }
      await forEachLimited(chunk(writes, 25), config.writeConcurrency, async (batch) => {
        await guard();
        await writeBatch(batch);
      });
      return { taskId, added: added.length, updated: images.length - added.length, total };
    } finally {
      await releaseLease(lease).catch(() => undefined);
    }
  };

  const lastSplit = async (taskId: string) => {
    const task = await getTask(taskId);
    const record = task?.live_slot ? slotRecord(task, task.live_slot) : undefined;
    if (!record) return undefined;
    const counts = { 0: record.sizes[0], 1: record.sizes[1], 2: record.sizes[2] };
    return { spec: record.split?.spec ?? { counts }, version: record.version };
  };

  const taskSummary = async (taskId: string): Promise<TaskSummary> => {
    const task = await getTask(taskId);
    if (!task?.image_count) throw new ServiceError(1003, { task_id: taskId });
    const live = task.live_slot ? slotRecord(task, task.live_slot)?.split : undefined;
    return { taskId, imageCount: task.image_count, live, history: task.history ?? [] };
  };

  const ensureTable = async () => {
    const indexes = Object.values(TABLE.slotIndexes);
    try {
      await raw.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [
            { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
            { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
          ],
          AttributeDefinitions: [
            { AttributeName: TABLE.partitionKey, AttributeType: "S" },
            { AttributeName: TABLE.sortKey, AttributeType: "S" },
            ...indexes.map((index) => ({ AttributeName: index.partitionKey, AttributeType: "S" as const })),
            { AttributeName: "order_id", AttributeType: "N" },
          ],
          GlobalSecondaryIndexes: indexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: "HASH" as const },
              { AttributeName: index.sortKey, KeyType: "RANGE" as const },
            ],
            Projection: { ProjectionType: "INCLUDE" as const, NonKeyAttributes: [...TABLE.projectedAttributes] },
          })),
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  };

  return {
    ensureTable: translated(ensureTable),
    splitTask: translated(splitTask),
    listSet: translated(listSet),
    registerImages: translated(registerImages),
    lastSplit: translated(lastSplit),
    taskSummary: translated(taskSummary),
  };
}

/** Lets ServiceErrors through and turns every other failure into 1500 (503 when it was throttling). */
function translated<A extends unknown[], R>(operation: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await operation(...args);
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      const name = (error as { name?: string } | null)?.name ?? "";
      throw storageUnavailable(error, THROTTLING.has(name));
    }
  };
}
