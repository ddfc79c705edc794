import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { StoreConfig } from "../config.ts";
import { ServiceError, storageUnavailable } from "../errors.ts";
import type {
  DeleteRequest,
  DeleteResult,
  Image,
  ImageCursor,
  ImagePage,
  ImageQuery,
  LiveSplit,
  PageBudget,
  RegisterRequest,
  RegisterResult,
  SetCursor,
  SetPage,
  SetQuery,
  SplitRecord,
  TaskSummary,
} from "../model.ts";
import { createDynamoDbClient, documentClient, isThrottling } from "./client.ts";
import { deleteImages } from "./deletion.ts";
import { getImage, listImages } from "./image-query.ts";
import { readAllImages, readImageColumns, type StoredImage, type StoredImages } from "./images.ts";
import { readRecords } from "./records.ts";
import { registerImages } from "./register.ts";
import { type ScheduleStore, scheduleStore } from "./schedules.ts";
import { ensureTable, tableReady } from "./schema.ts";
import { listSet } from "./set-listing.ts";
import { type Chunk, unpackSnapshot } from "./snapshot.ts";
import { expireSnapshot, expireUnreferenced, readChunks, type SnapshotRef, writeSnapshot } from "./snapshots.ts";
import {
  type PublishedSplit,
  type PublishOutcome,
  publish,
  publishedOf,
  readTask,
  type StoreContext,
  standing,
} from "./task-item.ts";
import { readTombstonesUpTo } from "./tombstones.ts";

export type { StoredImages } from "./images.ts";
export type { RunRecord, RunSettlement, ScheduleItem, ScheduleStore } from "./schedules.ts";
export type { SnapshotRef } from "./snapshots.ts";
export type { PublishedSplit, PublishOutcome } from "./task-item.ts";

/** A task as a split starts from: its image count, live split and the published window. */
export interface TaskState {
  /** Images left (deleted ones not counted). */
  imageCount: number;
  deletedCount: number;
  live: LiveSplit | undefined;
  /** The newest published splits, newest first, the live one included. */
  published: PublishedSplit[];
}

/**
 * Every storage operation. Each takes an optional `deadline` (epoch ms) by which it must have
 * answered, retries included; without one it has STORAGE_BUDGET_MS from its start.
 */
export interface Store {
  /** Creates the table (order index, TTL) when it does not exist yet; true when it was created now. */
  ensureTable(): Promise<boolean>;
  /** Whether the table exists with the order index, changing nothing. */
  tableReady(): Promise<boolean>;
  /** The task item, strongly consistent; undefined for a task never registered. */
  readTask(taskId: string, deadline?: number): Promise<TaskState | undefined>;
  /** Every image of the task, strongly consistent, one object each. */
  readImages(taskId: string, deadline?: number): Promise<StoredImage[]>;
  /** Every image of the task, strongly consistent, as columns: what a split plans over. */
  readImageColumns(taskId: string, deadline?: number): Promise<StoredImages>;
  /** A snapshot unpacked: the set of each order_id 1..n (-1 none). */
  readAssignment(taskId: string, ref: SnapshotRef, deadline?: number): Promise<Int8Array>;
  /** The split's record, then its chunks: nothing of it expires, any of it may become live. */
  writeSnapshot(taskId: string, record: SplitRecord, chunks: readonly Chunk[], deadline?: number): Promise<void>;
  /** One conditional write of the task item: `split` becomes live if the live version is still `planned`. */
  publish(
    taskId: string,
    planned: number,
    split: LiveSplit,
    previous: readonly PublishedSplit[],
    deadline?: number,
  ): Promise<PublishOutcome>;
  /** Whether split `ref` was published, read from the task item's published window (strongly consistent). */
  standing(
    taskId: string,
    ref: PublishedSplit,
    deadline?: number,
  ): Promise<"published" | "lost" | "absent" | "unknown">;
  /** The record of one split; undefined once it has expired. */
  readRecord(taskId: string, ref: PublishedSplit, deadline?: number): Promise<SplitRecord | undefined>;
  /** Expires a snapshot that can never become live (its split is known not to be published). */
  expireSnapshot(taskId: string, ref: SnapshotRef, deadline?: number): Promise<void>;
  /** Expires every recent snapshot up to `published` that is not in the published window; returns how many. */
  expireUnreferenced(
    taskId: string,
    published: number,
    retained: readonly PublishedSplit[],
    deadline?: number,
  ): Promise<number>;
  /** One page of one set of the live (or the cursor's) snapshot, ended early when `budget` is spent. */
  listSet(query: SetQuery, deadline?: number, budget?: PageBudget<SetCursor>): Promise<SetPage>;
  /** Idempotent upsert of images; new ones get the task's next order_ids. */
  registerImages(request: RegisterRequest, deadline?: number): Promise<RegisterResult>;
  /** The live split and the recent ones, with the current image and unassigned counts; 1003 without images. */
  taskSummary(taskId: string, deadline?: number): Promise<TaskSummary>;
  /** One image with its set in the live split; 1026 when unknown or deleted. */
  getImage(taskId: string, imgId: string, deadline?: number): Promise<Image>;
  /** One page of the task's images in order_id order, ended early when `budget` is spent; 1003 without images. */
  listImages(query: ImageQuery, deadline?: number, budget?: PageBudget<ImageCursor>): Promise<ImagePage>;
  /** Logical deletion of images; 1003 for a task without images. */
  deleteImages(request: DeleteRequest, deadline?: number): Promise<DeleteResult>;
  /** Each task's schedule and the records of its runs (schedules.ts). */
  readonly schedules: ScheduleStore;
  /** The budget an operation gets when the caller names no deadline. */
  readonly config: StoreConfig;
}

/**
 * The only door to DynamoDB. Every SDK failure leaves it as a ServiceError: retries exhausted is
 * 1500 with 503 (retryable), anything else 1500 with 500.
 */
export function createStore(config: StoreConfig, client: DynamoDBClient = createDynamoDbClient(config)): Store {
  const ctx: StoreContext = { db: documentClient(client), config, table: config.tableName };
  const by = (deadline: number | undefined) => deadline ?? Date.now() + config.budgetMs;

  const taskState = async (taskId: string, deadline?: number): Promise<TaskState | undefined> => {
    const task = await readTask(ctx, taskId, by(deadline));
    if (!task) return undefined;
    return {
      imageCount: task.image_count ?? 0,
      deletedCount: task.deleted_count ?? 0,
      live: task.live,
      published: publishedOf(task),
    };
  };

  const readAssignment = async (taskId: string, ref: SnapshotRef, deadline?: number) =>
    unpackSnapshot(await readChunks(ctx, taskId, ref, 0, ref.chunks - 1, by(deadline)), ref.n);

  /**
   * Images of the live split not deleted since: its sizes less its members among the tombstones (an
   * image registered again after its deletion has a new order_id, unassigned in this split). It
   * reads every tombstone up to the split's n, so its cost grows with the task's deletions: only the
   * summary counts them; a page or a deletion reads just the tombstones it needs.
   */
  const assignedLeft = async (taskId: string, live: LiveSplit, deadline?: number) => {
    const assigned = live.achieved[0] + live.achieved[1] + live.achieved[2];
    const orderIds = await readTombstonesUpTo(ctx, taskId, live.n, by(deadline));
    if (orderIds.length === 0) return assigned;
    const setOf = await readAssignment(taskId, live, deadline);
    return assigned - orderIds.filter((orderId) => (setOf[orderId] as number) >= 0).length;
  };

  const taskSummary = async (taskId: string, deadline?: number): Promise<TaskSummary> => {
    const task = await taskState(taskId, deadline);
    if (!task?.imageCount)
      throw new ServiceError(1003, { task_id: taskId }, { detail: `task ${taskId} has no images` });
    const [assigned, history] = await Promise.all([
      task.live ? assignedLeft(taskId, task.live, deadline) : 0,
      readRecords(ctx, taskId, task.published, by(deadline)),
    ]);
    return {
      taskId,
      imageCount: task.imageCount,
      deletedCount: task.deletedCount,
      unassignedCount: task.imageCount - assigned,
      live: history.find((record) => record.token === task.live?.token),
      history,
    };
  };

  return {
    config,
    schedules: scheduleStore(ctx, translated),
    ensureTable: translated(() => ensureTable(client, config.tableName)),
    tableReady: translated(() => tableReady(client, config.tableName)),
    readTask: translated(taskState),
    readImages: translated((taskId, deadline) => readAllImages(ctx, taskId, by(deadline))),
    readImageColumns: translated((taskId, deadline) => readImageColumns(ctx, taskId, by(deadline))),
    readAssignment: translated(readAssignment),
    writeSnapshot: translated((taskId, record, chunks, deadline) =>
      writeSnapshot(ctx, taskId, record, chunks, by(deadline)),
    ),
    publish: translated((taskId, planned, split, previous, deadline) =>
      publish(ctx, taskId, planned, split, previous, by(deadline)),
    ),
    standing: translated(async (taskId, ref, deadline) => standing(await readTask(ctx, taskId, by(deadline)), ref)),
    readRecord: translated(async (taskId, ref, deadline) => (await readRecords(ctx, taskId, [ref], by(deadline)))[0]),
    expireSnapshot: translated((taskId, ref, deadline) => expireSnapshot(ctx, taskId, ref, by(deadline))),
    expireUnreferenced: translated((taskId, published, retained, deadline) =>
      expireUnreferenced(ctx, taskId, published, retained, by(deadline)),
    ),
    listSet: translated((query, deadline, budget) => listSet(ctx, query, by(deadline), budget)),
    registerImages: translated((request, deadline) => registerImages(ctx, request, by(deadline))),
    taskSummary: translated(taskSummary),
    getImage: translated((taskId, imgId, deadline) => getImage(ctx, taskId, imgId, by(deadline))),
    listImages: translated((query, deadline, budget) => listImages(ctx, query, by(deadline), budget)),
    deleteImages: translated((request, deadline) => deleteImages(ctx, request, by(deadline))),
  };
}

/** Lets ServiceErrors through and turns every other failure into 1500 (503 when it was throttling). */
function translated<A extends unknown[], R>(operation: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await operation(...args);
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      throw storageUnavailable(error, isThrottling(error));
    }
  };
}
