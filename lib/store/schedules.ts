import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { forEachLimited } from "../concurrency.ts";
import type { Item } from "./batch.ts";
import { retrying } from "./client.ts";
import { TABLE } from "./table.ts";
import type { StoreContext } from "./task-item.ts";

/**
 * A task's schedule and its runs, each an item of its own under the task's partition, never on the
 * task item. Their sort keys start with `#schedule`, which sorts below `#task` like every reserved
 * key, so a split's read of the images (`img_id > "#task"`) never meets them:
 * - the schedule item, `#schedule`: the settings, the start date the service gave it, a revision
 *   that every change raises, and its state (`pending` until the engine has it, `active`, or
 *   `deleted`, kept so a later schedule of the task carries on the revisions);
 * - one record per run, `#schedule#run#<scheduled time>` (ISO 8601, UTC, to the second, so the keys
 *   sort by time): written `running` once per scheduled time, settled with its outcome; beyond
 *   the newest RUNS_KEPT they get an expiry.
 */
const SCHEDULE_SK = "#schedule";
const RUN_PREFIX = "#schedule#run#";
const scheduleRunKey = (scheduledAt: string): string => `${RUN_PREFIX}${scheduledAt}`;

/** Runs a GET shows and the table keeps unexpired. */
const RUNS_KEPT = 20;

type ScheduleState = "pending" | "active" | "deleted";

export interface ScheduleItem {
  readonly expression: string;
  readonly timezone: string;
  /** The PUT /training/tasks/sets body a run splits with (without task_id and seed), as parsed. */
  readonly split: Record<string, unknown>;
  readonly enabled: boolean;
  readonly windowMinutes: number;
  /** The engine's StartDate, ISO 8601. */
  readonly startDate: string;
  readonly revision: number;
  readonly state: ScheduleState;
  readonly updatedAt: string;
}

type RunOutcome = "split" | "skipped" | "failed" | "unknown";

export interface RunRecord {
  /** The time the run was due: its key. */
  readonly scheduledAt: string;
  readonly revision: number;
  readonly startedAt: string;
  readonly status: "running" | RunOutcome;
  /** The split's version and token, written before its publish. */
  readonly splitVersion?: number;
  readonly splitToken?: string;
  readonly finishedAt?: string;
  readonly code?: number;
  readonly detail?: string;
}

export type RunSettlement = Pick<RunRecord, "finishedAt" | "code" | "detail" | "splitVersion"> & {
  readonly status: RunOutcome;
};

const EXPIRES = TABLE.expiryAttribute;
const keyOf = (taskKey: string, sortKey: string) => ({ [TABLE.partitionKey]: taskKey, [TABLE.sortKey]: sortKey });

const itemOf = (schedule: ScheduleItem) => ({
  expression: schedule.expression,
  timezone: schedule.timezone,
  split: schedule.split,
  enabled: schedule.enabled,
  window_minutes: schedule.windowMinutes,
  start_date: schedule.startDate,
  revision: schedule.revision,
  state: schedule.state,
  updated_at: schedule.updatedAt,
});

const scheduleOf = (item: Item): ScheduleItem => ({
  expression: item.expression as string,
  timezone: item.timezone as string,
  split: item.split as Record<string, unknown>,
  enabled: item.enabled as boolean,
  windowMinutes: item.window_minutes as number,
  startDate: item.start_date as string,
  revision: item.revision as number,
  state: item.state as ScheduleState,
  updatedAt: item.updated_at as string,
});

const runOf = (item: Item): RunRecord => ({
  scheduledAt: item.scheduled_at as string,
  revision: item.revision as number,
  startedAt: item.started_at as string,
  status: item.status as RunRecord["status"],
  ...(item.split_version === undefined ? {} : { splitVersion: item.split_version as number }),
  ...(item.split_token === undefined ? {} : { splitToken: item.split_token as string }),
  ...(item.finished_at === undefined ? {} : { finishedAt: item.finished_at as string }),
  ...(item.code === undefined ? {} : { code: item.code as number }),
  ...(item.detail === undefined ? {} : { detail: item.detail as string }),
});

/** Runs `call`, answering false when its condition failed (another write came first). */
async function conditional(deadline: number, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await retrying(deadline, call);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** The task's schedule item (deleted ones too), strongly consistent. */
async function readSchedule(ctx: StoreContext, taskKey: string, deadline: number) {
  const out = await retrying(deadline, () =>
    ctx.db.send(new GetCommand({ TableName: ctx.table, Key: keyOf(taskKey, SCHEDULE_SK), ConsistentRead: true })),
  );
  return out.Item ? scheduleOf(out.Item) : undefined;
}

/** Writes the schedule item if the stored revision is still `previous` (0: there is none); false when another write came first. */
function writeSchedule(
  ctx: StoreContext,
  taskKey: string,
  schedule: ScheduleItem,
  previous: number,
  deadline: number,
): Promise<boolean> {
  return conditional(deadline, () =>
    ctx.db.send(
      new PutCommand({
        TableName: ctx.table,
        Item: { ...keyOf(taskKey, SCHEDULE_SK), ...itemOf(schedule) },
        ...(previous === 0
          ? {
              ConditionExpression: "attribute_not_exists(#pk)",
              ExpressionAttributeNames: { "#pk": TABLE.partitionKey },
            }
          : { ConditionExpression: "revision = :previous", ExpressionAttributeValues: { ":previous": previous } }),
      }),
    ),
  );
}

/** Sets the state of revision `revision` when it is still the stored one; false otherwise. */
function markSchedule(
  ctx: StoreContext,
  taskKey: string,
  revision: number,
  state: ScheduleState,
  deadline: number,
): Promise<boolean> {
  return conditional(deadline, () =>
    ctx.db.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: keyOf(taskKey, SCHEDULE_SK),
        UpdateExpression: "SET #state = :state, updated_at = :now",
        ConditionExpression: "revision = :revision",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":state": state, ":now": new Date().toISOString(), ":revision": revision },
      }),
    ),
  );
}

/**
 * Every schedule item of the table, deleted ones left out, with its task key: a Scan, so only for
 * the local server, which rebuilds its in-process schedules from them at start.
 */
async function listSchedules(ctx: StoreContext, deadline: number) {
  const found: { taskKey: string; schedule: ScheduleItem }[] = [];
  let startKey: Item | undefined;
  do {
    const out = await retrying(deadline, () =>
      ctx.db.send(
        new ScanCommand({
          TableName: ctx.table,
          FilterExpression: "#sk = :schedule AND #state <> :deleted",
          ExpressionAttributeNames: { "#sk": TABLE.sortKey, "#state": "state" },
          ExpressionAttributeValues: { ":schedule": SCHEDULE_SK, ":deleted": "deleted" },
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    for (const item of (out.Items ?? []) as Item[]) {
      found.push({ taskKey: item[TABLE.partitionKey] as string, schedule: scheduleOf(item) });
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return found;
}

/** The newest RUNS_KEPT run records, newest first. */
async function readRuns(ctx: StoreContext, taskKey: string, deadline: number): Promise<RunRecord[]> {
  const out = await retrying(deadline, () =>
    ctx.db.send(
      new QueryCommand({
        TableName: ctx.table,
        KeyConditionExpression: "#pk = :task AND begins_with(#sk, :runs)",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
        ExpressionAttributeValues: { ":task": taskKey, ":runs": RUN_PREFIX },
        ScanIndexForward: false,
        Limit: RUNS_KEPT,
        ConsistentRead: true,
      }),
    ),
  );
  return ((out.Items ?? []) as Item[]).map(runOf);
}

/**
 * Writes the record of a run as `running`, once per scheduled time: undefined when this call wrote
 * it, else the record already there (another delivery of the same time).
 */
async function claimRun(
  ctx: StoreContext,
  taskKey: string,
  run: Pick<RunRecord, "scheduledAt" | "revision" | "startedAt">,
  deadline: number,
): Promise<RunRecord | undefined> {
  const key = keyOf(taskKey, scheduleRunKey(run.scheduledAt));
  const written = await conditional(deadline, () =>
    ctx.db.send(
      new PutCommand({
        TableName: ctx.table,
        Item: {
          ...key,
          scheduled_at: run.scheduledAt,
          revision: run.revision,
          started_at: run.startedAt,
          status: "running",
        },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey },
      }),
    ),
  );
  if (written) return undefined;
  const out = await retrying(deadline, () =>
    ctx.db.send(new GetCommand({ TableName: ctx.table, Key: key, ConsistentRead: true })),
  );
  // Claimed, then expired and deleted in between: nothing to settle, and nothing to run again.
  return out.Item
    ? runOf(out.Item)
    : { ...run, status: "unknown", detail: "the run's record is gone", finishedAt: run.startedAt };
}

/** Notes the split's version and token on a running run, before the split publishes. */
async function noteRunSplit(
  ctx: StoreContext,
  taskKey: string,
  scheduledAt: string,
  split: { version: number; token: string },
  deadline: number,
): Promise<void> {
  const noted = await conditional(deadline, () =>
    ctx.db.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: keyOf(taskKey, scheduleRunKey(scheduledAt)),
        UpdateExpression: "SET split_version = :version, split_token = :token",
        ConditionExpression: "#status = :running",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":version": split.version, ":token": split.token, ":running": "running" },
      }),
    ),
  );
  if (!noted) throw new Error(`the run of ${scheduledAt} was settled before its split could publish`);
}

/** Settles a running run with its outcome; false when it was settled already. */
function settleRun(
  ctx: StoreContext,
  taskKey: string,
  scheduledAt: string,
  settlement: RunSettlement,
  deadline: number,
): Promise<boolean> {
  const values: Record<string, unknown> = {
    ":status": settlement.status,
    ":finished": settlement.finishedAt ?? new Date().toISOString(),
    ":running": "running",
  };
  const sets = ["#status = :status", "finished_at = :finished"];
  for (const [field, attribute] of [
    ["splitVersion", "split_version"],
    ["code", "code"],
    ["detail", "detail"],
  ] as const) {
    if (settlement[field] === undefined) continue;
    sets.push(`${attribute} = :${attribute}`);
    values[`:${attribute}`] = settlement[field];
  }
  return conditional(deadline, () =>
    ctx.db.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: keyOf(taskKey, scheduleRunKey(scheduledAt)),
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "#status = :running",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: values,
      }),
    ),
  );
}

/**
 * Sets an expiry on the run records beyond the newest RUNS_KEPT that have none. Every run calls it
 * after writing its own, so only the few just past the newest are ever looked at.
 */
async function expireOldRuns(ctx: StoreContext, taskKey: string, deadline: number): Promise<number> {
  const out = await retrying(deadline, () =>
    ctx.db.send(
      new QueryCommand({
        TableName: ctx.table,
        KeyConditionExpression: "#pk = :task AND begins_with(#sk, :runs)",
        ProjectionExpression: "#sk, #expires",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey, "#expires": EXPIRES },
        ExpressionAttributeValues: { ":task": taskKey, ":runs": RUN_PREFIX },
        ScanIndexForward: false,
        Limit: RUNS_KEPT + 5,
      }),
    ),
  );
  const old = ((out.Items ?? []) as Item[]).slice(RUNS_KEPT).filter((item) => item[EXPIRES] === undefined);
  const at = Math.ceil(Date.now() / 1000);
  await forEachLimited(old, ctx.config.concurrency, async (item) => {
    // A record TTL deleted meanwhile is not made again.
    await conditional(deadline, () =>
      ctx.db.send(
        new UpdateCommand({
          TableName: ctx.table,
          Key: keyOf(taskKey, item[TABLE.sortKey] as string),
          UpdateExpression: "SET #expires = :at",
          ConditionExpression: "attribute_exists(#pk)",
          ExpressionAttributeNames: { "#expires": EXPIRES, "#pk": TABLE.partitionKey },
          ExpressionAttributeValues: { ":at": at },
        }),
      ),
    );
  });
  return old.length;
}

type Wrap = <A extends unknown[], R>(operation: (...args: A) => Promise<R>) => (...args: A) => Promise<R>;

/** A task's schedule and its runs, each call with an optional deadline (epoch ms) like every storage call. */
export interface ScheduleStore {
  read(taskKey: string, deadline?: number): Promise<ScheduleItem | undefined>;
  write(taskKey: string, schedule: ScheduleItem, previous: number, deadline?: number): Promise<boolean>;
  mark(taskKey: string, revision: number, state: ScheduleState, deadline?: number): Promise<boolean>;
  list(deadline?: number): Promise<{ taskKey: string; schedule: ScheduleItem }[]>;
  readRuns(taskKey: string, deadline?: number): Promise<RunRecord[]>;
  claimRun(
    taskKey: string,
    run: Pick<RunRecord, "scheduledAt" | "revision" | "startedAt">,
    deadline?: number,
  ): Promise<RunRecord | undefined>;
  noteRunSplit(
    taskKey: string,
    scheduledAt: string,
    split: { version: number; token: string },
    deadline?: number,
  ): Promise<void>;
  settleRun(taskKey: string, scheduledAt: string, settlement: RunSettlement, deadline?: number): Promise<boolean>;
  expireOldRuns(taskKey: string, deadline?: number): Promise<number>;
}

/** The schedule store over `ctx`, each operation passed through `wrap` (the store's error translation). */
export function scheduleStore(ctx: StoreContext, wrap: Wrap): ScheduleStore {
  const by = (deadline: number | undefined) => deadline ?? Date.now() + ctx.config.budgetMs;
  return {
    read: wrap((taskKey: string, deadline?: number) => readSchedule(ctx, taskKey, by(deadline))),
    write: wrap((taskKey: string, schedule: ScheduleItem, previous: number, deadline?: number) =>
      writeSchedule(ctx, taskKey, schedule, previous, by(deadline)),
    ),
    mark: wrap((taskKey: string, revision: number, state: ScheduleState, deadline?: number) =>
      markSchedule(ctx, taskKey, revision, state, by(deadline)),
    ),
    list: wrap((deadline?: number) => listSchedules(ctx, by(deadline))),
    readRuns: wrap((taskKey: string, deadline?: number) => readRuns(ctx, taskKey, by(deadline))),
    claimRun: wrap(
      (taskKey: string, run: Pick<RunRecord, "scheduledAt" | "revision" | "startedAt">, deadline?: number) =>
        claimRun(ctx, taskKey, run, by(deadline)),
    ),
    noteRunSplit: wrap(
      (taskKey: string, scheduledAt: string, split: { version: number; token: string }, deadline?: number) =>
        noteRunSplit(ctx, taskKey, scheduledAt, split, by(deadline)),
    ),
    settleRun: wrap((taskKey: string, scheduledAt: string, settlement: RunSettlement, deadline?: number) =>
      settleRun(ctx, taskKey, scheduledAt, settlement, by(deadline)),
    ),
    expireOldRuns: wrap((taskKey: string, deadline?: number) => expireOldRuns(ctx, taskKey, by(deadline))),
  };
}
