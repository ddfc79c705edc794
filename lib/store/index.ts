import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { StoreConfig } from "../config.ts";
import { ServiceError, storageUnavailable } from "../errors.ts";
import type { ListQuery, RegisterRequest, RegisterResult, SetPage, SplitRecord, TaskSummary } from "../model.ts";
import { createClient, documentClient, isThrottling } from "./client.ts";
import { readAllImages, type StoredImage } from "./images.ts";
import { listSet } from "./listing.ts";
import { registerImages } from "./register.ts";
import { ensureTable, tableReady } from "./schema.ts";
import { type Chunk, unpackSnapshot } from "./snapshot.ts";
import { expireSnapshot, expireUnreferenced, readChunks, type SnapshotRef, writeSnapshot } from "./snapshots.ts";
import { type PublishOutcome, publish, readTask, type StoreContext } from "./task-item.ts";

export type { StoredImage } from "./images.ts";
export type { Chunk } from "./snapshot.ts";
export type { SnapshotRef } from "./snapshots.ts";
export type { PublishOutcome } from "./task-item.ts";

/** A task as a split starts from: its image count, live split and retained history. */
export interface TaskState {
  imageCount: number;
  live: SplitRecord | undefined;
  history: SplitRecord[];
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
  /** Every image of the task, strongly consistent (what a split plans over). */
  readImages(taskId: string, deadline?: number): Promise<StoredImage[]>;
  /** A snapshot unpacked: the set of each order_id 1..n (-1 none). */
  readAssignment(taskId: string, ref: SnapshotRef, deadline?: number): Promise<Int8Array>;
  writeSnapshot(taskId: string, ref: SnapshotRef, chunks: readonly Chunk[], deadline?: number): Promise<void>;
  /** One conditional write of the task item: `record` becomes live if the live version is still `planned`. */
  publish(
    taskId: string,
    planned: number,
    record: SplitRecord,
    history: readonly SplitRecord[],
    deadline?: number,
  ): Promise<PublishOutcome>;
  /** Expires a snapshot that can never become live (its split lost the publish). */
  expireSnapshot(taskId: string, ref: SnapshotRef, deadline?: number): Promise<void>;
  /** Expires every snapshot up to `published` that is neither live nor retained; returns how many. */
  expireUnreferenced(
    taskId: string,
    published: number,
    retained: readonly SplitRecord[],
    deadline?: number,
  ): Promise<number>;
  /** One page of one set of the live (or the cursor's) snapshot. */
  listSet(query: ListQuery, deadline?: number): Promise<SetPage>;
  /** Idempotent upsert of images; new ones get the task's next order_ids. */
  registerImages(request: RegisterRequest, deadline?: number): Promise<RegisterResult>;
  /** The live split and the recent ones, with the current image and unassigned counts; 1003 without images. */
  taskSummary(taskId: string, deadline?: number): Promise<TaskSummary>;
  /** The budget an operation gets when the caller names no deadline. */
  readonly config: StoreConfig;
}

/**
 * The only door to DynamoDB. Every SDK failure leaves it as a ServiceError: retries exhausted is
 * 1500 with 503 (retryable), anything else 1500 with 500.
 */
export function createStore(config: StoreConfig, client: DynamoDBClient = createClient(config)): Store {
  const ctx: StoreContext = { db: documentClient(client), config, table: config.tableName };
  const by = (deadline: number | undefined) => deadline ?? Date.now() + config.budgetMs;

  const taskState = async (taskId: string, deadline?: number): Promise<TaskState | undefined> => {
    const task = await readTask(ctx, taskId, by(deadline));
    if (!task) return undefined;
    return { imageCount: task.image_count ?? 0, live: task.live, history: task.history ?? [] };
  };

  const readAssignment = async (taskId: string, ref: SnapshotRef, deadline?: number) =>
    unpackSnapshot(await readChunks(ctx, taskId, ref, 0, ref.chunks - 1, by(deadline)), ref.n);

  const taskSummary = async (taskId: string, deadline?: number): Promise<TaskSummary> => {
    const task = await taskState(taskId, deadline);
    if (!task?.imageCount)
      throw new ServiceError(1003, { task_id: taskId }, { detail: `task ${taskId} has no images` });
    const assigned = task.live ? task.live.achieved[0] + task.live.achieved[1] + task.live.achieved[2] : 0;
    return {
      taskId,
      imageCount: task.imageCount,
      unassignedCount: task.imageCount - assigned,
      live: task.live,
      history: task.history,
    };
  };

  return {
    config,
    ensureTable: translated(() => ensureTable(client, config.tableName)),
    tableReady: translated(() => tableReady(client, config.tableName)),
    readTask: translated(taskState),
    readImages: translated((taskId, deadline) => readAllImages(ctx, taskId, by(deadline))),
    readAssignment: translated(readAssignment),
    writeSnapshot: translated((taskId, ref, chunks, deadline) => writeSnapshot(ctx, taskId, ref, chunks, by(deadline))),
    publish: translated((taskId, planned, record, history, deadline) =>
      publish(ctx, taskId, planned, record, history, by(deadline)),
    ),
    expireSnapshot: translated((taskId, ref, deadline) => expireSnapshot(ctx, taskId, ref, by(deadline))),
    expireUnreferenced: translated((taskId, published, retained, deadline) =>
      expireUnreferenced(ctx, taskId, published, retained, by(deadline)),
    ),
    listSet: translated((query, deadline) => listSet(ctx, query, by(deadline))),
    registerImages: translated((request, deadline) => registerImages(ctx, request, by(deadline))),
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
      throw storageUnavailable(error, isThrottling(error));
    }
  };
}
