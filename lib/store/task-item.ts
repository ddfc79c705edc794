import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { StoreConfig } from "../config.ts";
import { storageUnavailable } from "../errors.ts";
import { HISTORY_LENGTH, type SplitRecord } from "../model.ts";
import { TABLE, TASK_ITEM_SK } from "../table.ts";
import { retrying } from "./client.ts";

/** What every storage module works with: the document client, the settings, the table name. */
export interface StoreContext {
  db: DynamoDBDocumentClient;
  config: StoreConfig;
  table: string;
}

/**
 * The storage layout this code writes and reads (1 was per-image slot attributes, which left no
 * mark); a task item of any other layout is refused with 503 rather than misread.
 */
export const LAYOUT = 2;

/** The task item: allocation counter, image count, the live split and the retained ones. */
export interface TaskItem {
  task_id: string;
  layout?: number;
  /** Highest order_id handed out (holes included). */
  next_order?: number;
  /** Images created, kept in the same transactions that create them. */
  image_count?: number;
  /** Images deleted and not registered again, kept in the same transactions. */
  deleted_count?: number;
  live?: SplitRecord;
  /** The last HISTORY_LENGTH splits, newest first, the live one included, without label histograms. */
  history?: SplitRecord[];
}

export const taskKey = (taskId: string) => ({ [TABLE.partitionKey]: taskId, [TABLE.sortKey]: TASK_ITEM_SK });

/** The task item, strongly consistent; undefined for a task never registered. Another layout is 503. */
export async function readTask(ctx: StoreContext, taskId: string, deadline: number): Promise<TaskItem | undefined> {
  const out = await retrying(deadline, () =>
    ctx.db.send(new GetCommand({ TableName: ctx.table, Key: taskKey(taskId), ConsistentRead: true })),
  );
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

export type PublishOutcome = { published: true } | { published: false; winner: number };

/**
 * Makes `record` the task's live split with one conditional write: only if the live version is
 * still `planned` (the one the split planned on). When the condition fails, the task item tells
 * whether this very write was applied and only its answer lost (our token is live: success) or
 * another split won (its version is returned).
 */
export async function publish(
  ctx: StoreContext,
  taskId: string,
  planned: number,
  record: SplitRecord,
  previousHistory: readonly SplitRecord[],
  deadline: number,
): Promise<PublishOutcome> {
  const history = [{ ...record, labelCounts: [] }, ...previousHistory].slice(0, HISTORY_LENGTH);
  try {
    await retrying(deadline, () =>
      ctx.db.send(
        new UpdateCommand({
          TableName: ctx.table,
          Key: taskKey(taskId),
          UpdateExpression: "SET live = :live, history = :history",
          ConditionExpression:
            planned === 0
              ? "layout = :layout AND attribute_not_exists(live)"
              : "layout = :layout AND live.version = :planned",
          ExpressionAttributeValues: {
            ":live": record,
            ":history": history,
            ":layout": LAYOUT,
            ...(planned === 0 ? {} : { ":planned": planned }),
          },
        }),
      ),
    );
    return { published: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const task = await readTask(ctx, taskId, deadline);
    if (task?.live?.token === record.token) return { published: true };
    return { published: false, winner: task?.live?.version ?? 0 };
  }
}
