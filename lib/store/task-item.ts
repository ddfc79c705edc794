import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { StoreConfig } from "../config.ts";
import { storageUnavailable } from "../errors.ts";
import { HISTORY_LENGTH, type LiveSplit, type SplitRef } from "../model.ts";
import { isThrottling, retrying } from "./client.ts";
import { TABLE, TASK_ITEM_SK } from "./table.ts";

/** What every storage module works with: the document client, the settings, the table name. */
export interface StoreContext {
  db: DynamoDBDocumentClient;
  config: StoreConfig;
  table: string;
}

/**
 * The storage layout this code writes and reads (1 was per-image slot attributes, 2 kept the split
 * history on the task item); a task item of any other layout is refused with 503 rather than misread.
 */
export const LAYOUT = 3;

/**
 * The task item: what every registration, deletion and publish needs, and nothing that grows with
 * the task's past (DynamoDB bills each of those writes by the whole item). Under 1 KB.
 */
export interface TaskItem {
  task_id: string;
  layout?: number;
  /** Highest order_id handed out (holes included). */
  next_order?: number;
  /** Images created, kept in the same transactions that create them. */
  image_count?: number;
  /** Images deleted and not registered again, kept in the same transactions. */
  deleted_count?: number;
  live?: LiveSplit;
  /** The newest HISTORY_LENGTH published splits, newest first, the live one included: `version.token …`. */
  published?: string;
}

export type PublishedSplit = Pick<SplitRef, "version" | "token">;

/** The published (version, token) pairs of a task item, newest first. */
export const publishedOf = (task: TaskItem | undefined): PublishedSplit[] =>
  (task?.published ?? "")
    .split(" ")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const dot = pair.indexOf(".");
      return { version: Number(pair.slice(0, dot)), token: pair.slice(dot + 1) };
    });

const publishedText = (pairs: readonly PublishedSplit[]) =>
  pairs
    .slice(0, HISTORY_LENGTH)
    .map((pair) => `${pair.version}.${pair.token}`)
    .join(" ");

export const taskKey = (taskId: string) => ({ [TABLE.partitionKey]: taskId, [TABLE.sortKey]: TASK_ITEM_SK });

/** The task item, strongly consistent; undefined for a task never registered. Another layout is 503. */
export async function readTask(ctx: StoreContext, taskId: string, deadline: number): Promise<TaskItem | undefined> {
  return knownLayout(taskId, await retrying(deadline, () => ctx.db.send(new GetCommand(taskRead(ctx, taskId)))));
}

const taskRead = (ctx: StoreContext, taskId: string) =>
  ({ TableName: ctx.table, Key: taskKey(taskId), ConsistentRead: true }) as const;

/** The task item of a Get's answer; another layout is 503, never misread. */
function knownLayout(taskId: string, out: { Item?: Record<string, unknown> }): TaskItem | undefined {
  const task = out.Item as TaskItem | undefined;
  if (task && task.layout !== LAYOUT) {
    throw storageUnavailable(
      new Error(`task ${taskId} has storage layout ${task.layout}, this code knows ${LAYOUT}`),
      true,
    );
  }
  return task;
}

/**
 * Hands out `count` new order_ids with one atomic ADD and returns the first. The task item is
 * created by the first registration. An answer lost and the call retried hands out a second range:
 * the first becomes a hole, which no split ever assigns.
 */
export async function allocateOrderIds(
  ctx: StoreContext,
  taskId: string,
  count: number,
  deadline: number,
): Promise<number> {
  const out = await retrying(deadline, () =>
    ctx.db.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: taskKey(taskId),
        UpdateExpression: "SET layout = if_not_exists(layout, :layout) ADD next_order :n",
        ConditionExpression: "attribute_not_exists(layout) OR layout = :layout",
        ExpressionAttributeValues: { ":layout": LAYOUT, ":n": count },
        ReturnValues: "UPDATED_NEW",
      }),
    ),
  );
  return (out.Attributes?.next_order as number) - count + 1;
}

/**
 * What became of a publish: applied; lost to another split of the same version (`winner` is the
 * live version); known not applied (every attempt was refused by DynamoDB itself); or unknown.
 */
export type PublishOutcome =
  | { outcome: "published" }
  | { outcome: "lost"; winner: number }
  | { outcome: "not-published"; cause: unknown }
  | { outcome: "unknown"; cause: unknown };

/**
 * Where split `ref` stands on the task item: published (its pair is there), lost (its version is
 * inside the window and another token holds it), absent (the live version is still below it), or
 * unknown (its version has left the window of published pairs).
 */
export function standing(task: TaskItem | undefined, ref: PublishedSplit): "published" | "lost" | "absent" | "unknown" {
  const pairs = publishedOf(task);
  if (pairs.some((pair) => pair.version === ref.version && pair.token === ref.token)) return "published";
  const live = task?.live?.version ?? 0;
  if (live < ref.version) return "absent";
  const oldest = pairs.at(-1)?.version ?? live + 1;
  return ref.version >= oldest ? "lost" : "unknown";
}

/** One strongly consistent read of the task item, given half the answer margin: the deadline has passed. */
async function lastRead(ctx: StoreContext, taskId: string): Promise<TaskItem | undefined> {
  const abortSignal = AbortSignal.timeout(ctx.config.answerMarginMs / 2);
  return knownLayout(taskId, await ctx.db.send(new GetCommand(taskRead(ctx, taskId)), { abortSignal }));
}

/** A refusal DynamoDB answered itself: the request was not applied. */
const refused = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  isThrottling(error) ||
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 400;

/**
 * Makes `split` the task's live split with one conditional write: only if the live version is
 * still `planned` (the one the split planned on), adding its pair to the published window. When
 * the write fails, or its answer never comes, the task item is read once more (strongly
 * consistent; after an exhausted deadline, inside the answer margin) to learn the outcome.
 */
export async function publish(
  ctx: StoreContext,
  taskId: string,
  planned: number,
  split: LiveSplit,
  previous: readonly PublishedSplit[],
  deadline: number,
): Promise<PublishOutcome> {
  const live: LiveSplit = {
    version: split.version,
    token: split.token,
    n: split.n,
    chunks: split.chunks,
    achieved: split.achieved,
  };
  let uncertain = false;
  try {
    await retrying(deadline, async () => {
      try {
        return await ctx.db.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: taskKey(taskId),
            UpdateExpression: "SET live = :live, published = :published",
            ConditionExpression:
              planned === 0
                ? "layout = :layout AND attribute_not_exists(live)"
                : "layout = :layout AND live.version = :planned",
            ExpressionAttributeValues: {
              ":live": live,
              ":published": publishedText([live, ...previous]),
              ":layout": LAYOUT,
              ...(planned === 0 ? {} : { ":planned": planned }),
            },
          }),
        );
      } catch (error) {
        if (!refused(error)) uncertain = true;
        throw error;
      }
    });
    return { outcome: "published" };
  } catch (error) {
    const conditional = error instanceof ConditionalCheckFailedException;
    let task: TaskItem | undefined;
    try {
      task = conditional ? await readTask(ctx, taskId, deadline) : await lastRead(ctx, taskId);
    } catch {
      return { outcome: "unknown", cause: error };
    }
    const found = standing(task, split);
    if (found === "published") return { outcome: "published" };
    if (found === "lost") return { outcome: "lost", winner: task?.live?.version ?? 0 };
    if (found === "absent" && !conditional && !uncertain) return { outcome: "not-published", cause: error };
    return { outcome: "unknown", cause: error };
  }
}
