import { forEachLimited } from "../concurrency.ts";
import { describeError, type ErrorCode, ServiceError } from "../errors.ts";
import { parseSplitOptions, parseSplitSizes } from "../http/validate.ts";
import { asObject, parseTaskId } from "../http/values.ts";
import { type Level, log as serviceLog } from "../log.ts";
import { publishResplitOutcome } from "../metrics.ts";
import { type SplitResult, type SplitSpec, TESTING, TRAINING, VERIFYING } from "../model.ts";
import { RUN_STALE_MS } from "../schedule/answers.ts";
import { type RunInput, type ScheduleEngine, scheduledTimeText } from "../schedule/engine.ts";
import { scheduleName } from "../schedule/name.ts";
import { engineScheduleOf } from "../schedule/timing.ts";
import type { RunRecord, RunSettlement, Store } from "../store/index.ts";
import { shownTaskId } from "../store/task-key.ts";
import { splitTask } from "./split.ts";

/** What happened to one task of a re-split (a schedule's run also says which scheduled time it was). */
export type ResplitResult = (
  | {
      task_id: string;
      outcome: "split";
      version: number;
      seed: string;
      training_count: number;
      verifying_count: number;
      testing_count: number;
      unassigned_count: number;
    }
  | { task_id: string; outcome: "skipped"; reason: string; code?: ErrorCode }
  | { task_id: string; outcome: "failed"; reason: string; code: ErrorCode }
) & { scheduled_at?: string };

export interface ResplitOptions {
  /** Tasks split at once; each split already keeps STORAGE_CONCURRENCY calls in flight. */
  concurrency?: number;
  /** Milliseconds the invocation has left (Lambda's context); no task starts once fewer than `reserveMs` remain. */
  timeLeft?: () => number;
  /** Time one split may need to finish, kept free before the invocation's end (default 60 s). */
  reserveMs?: number;
  /** Each task's own storage budget, retries included (default: the store's STORAGE_BUDGET_MS). */
  taskBudgetMs?: number;
  /** Where the one structured line per task goes (default: the service's logger, lib/log.ts). */
  log?: (entry: Record<string, unknown>) => void;
}

/** Codes that mean "this task cannot be re-split as it stands", not that something broke. */
const SKIPPED_CODES = new Set<ErrorCode>([1003, 1007]);

/** A published re-split as its result reports it: version, seed and the three set sizes. */
const splitOutcome = (taskId: string, split: SplitResult): ResplitResult => ({
  task_id: taskId,
  outcome: "split",
  version: split.version,
  seed: split.seed,
  training_count: split.drawn[TRAINING].length,
  verifying_count: split.drawn[VERIFYING].length,
  testing_count: split.drawn[TESTING].length,
  unassigned_count: split.unassignedCount,
});

/**
 * The task ids of a manual re-split, `{"task_ids":[…]}` (`npm run invoke`, `aws lambda invoke`):
 * each re-split with its last split's settings. Entries are checked one by one later, so one bad
 * id cannot stop the others; an event without a list throws.
 */
export function parseResplitEvent(event: unknown): unknown[] {
  const ids = asObject(event)?.task_ids;
  if (!Array.isArray(ids)) throw new TypeError('a manual re-split event must be {"task_ids":[…]}');
  return ids;
}

const shownId = (value: unknown): string =>
  typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));

/**
 * Re-splits each task with the counts of its last split and a fresh seed. A task never split, or
 * whose images no longer fit those counts, or that another split published over meanwhile, is skipped with a reason;
 * any other failure is reported for that task alone. Results come in the order of `taskIds`
 * (duplicates dropped), and each is logged as one JSON line and counted in the metric
 * ResplitTasks by outcome.
 */
export async function resplitTasks(
  store: Store,
  taskIds: readonly unknown[],
  options: ResplitOptions = {},
): Promise<{ results: ResplitResult[] }> {
  const { concurrency = 4, timeLeft, reserveMs = 60_000, taskBudgetMs = store.config.budgetMs } = options;
  const log =
    options.log ??
    (({ level, msg, ...fields }: Record<string, unknown>) => serviceLog(level as Level, String(msg), fields));
  const unique = [...new Map(taskIds.map((raw) => [shownId(raw), raw])).values()];
  const results: ResplitResult[] = new Array(unique.length);

  const resplitOne = async (raw: unknown): Promise<{ result: ResplitResult; error?: unknown }> => {
    let taskId = shownId(raw);
    try {
      taskId = parseTaskId(raw);
      if (timeLeft && timeLeft() < reserveMs) {
        return {
          result: { task_id: taskId, outcome: "skipped", reason: "not started: the invocation is running out of time" },
        };
      }
      // Each task gets its own budget, so one throttled task cannot starve the ones after it.
      const deadline = Date.now() + Math.min(taskBudgetMs, timeLeft ? timeLeft() - reserveMs / 2 : taskBudgetMs);
      const live = (await store.readTask(taskId, deadline))?.live;
      const record = live && (await store.readRecord(taskId, live, deadline));
      if (!record) return { result: { task_id: taskId, outcome: "skipped", reason: "never split" } };
      const split = await splitTask(store, { taskId, ...record.spec, seed: undefined }, deadline);
      return { result: splitOutcome(taskId, split) };
    } catch (error) {
      const failure = error instanceof ServiceError ? error : undefined;
      if (failure && SKIPPED_CODES.has(failure.code)) {
        return { result: { task_id: taskId, outcome: "skipped", reason: failure.message, code: failure.code } };
      }
      if (failure?.code === 1008) {
        return {
          result: { task_id: taskId, outcome: "skipped", reason: "another split was published first", code: 1008 },
        };
      }
      const reason = failure?.message ?? "unexpected error";
      return { result: { task_id: taskId, outcome: "failed", reason, code: failure?.code ?? 1500 }, error };
    }
  };

  const indexed = unique.map((raw, index) => ({ raw, index }));
  // resplitOne never throws, so one task's failure cannot stop the others.
  await forEachLimited(indexed, Math.max(1, concurrency), async ({ raw, index }) => {
    const { result, error } = await resplitOne(raw);
    results[index] = result;
    const level = result.outcome === "failed" ? "error" : result.outcome === "skipped" ? "warn" : "info";
    // The cause goes to the log only: the result may be shown to whoever invoked the function.
    log({
      level,
      msg: "resplit",
      ...result,
      ...(error === undefined
        ? {}
        : { error: describeError(error instanceof ServiceError && error.cause !== undefined ? error.cause : error) }),
    });
    // The outcome as a metric (dimension `outcome`; the task_id stays in the line above).
    publishResplitOutcome(result.outcome);
  });
  return { results };
}

/** A schedule's run input (lib/schedule/engine.ts), or undefined when the event is not one. */
export function parseRunInput(event: unknown): RunInput | undefined {
  const body = asObject(event);
  if (body === undefined || !Object.hasOwn(body, "task_key")) return undefined;
  const { task_key: taskKey, revision, scheduled_time: scheduledTime } = body;
  const at = typeof scheduledTime === "string" && SCHEDULED_TIME.test(scheduledTime) ? Date.parse(scheduledTime) : NaN;
  if (typeof taskKey !== "string" || !STORED_KEY.test(taskKey) || !Number.isSafeInteger(revision) || Number.isNaN(at)) {
    throw new TypeError(
      'a schedule\'s run input must be {"task_key": <stored task key>, "revision": n, "scheduled_time": "<ISO 8601 UTC>"}',
    );
  }
  return { task_key: taskKey, revision: revision as number, scheduled_time: scheduledTimeText(new Date(at)) };
}

/** A stored task key: a task_id, or a tenant's encoding, `#` and the task_id. */
const STORED_KEY = /^([a-z2-7]{26}#)?[0-9A-Za-z_-]{1,64}$/;
const SCHEDULED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Codes that make a scheduled run `skipped`: what needs the task's data, and another split published first. */
const RUN_SKIPPED_CODES = new Set<ErrorCode>([1003, 1007, 1008, 1020, 1021, 1022]);

/** The time a run's record gets to be settled, whatever the split left of the deadline. */
const SETTLE_MS = 5_000;

export interface RunOptions {
  /** The run's storage deadline (epoch ms); default: the store's budget from now. */
  deadline?: number;
  /** Where the one line per run goes (default: the service's logger). */
  log?: (entry: Record<string, unknown>) => void;
  now?: () => Date;
}

/** A split body as a schedule keeps it, read exactly as PUT /training/tasks/sets reads its body. */
function scheduledSpec(taskKey: string, split: Record<string, unknown>): SplitSpec {
  const options = parseSplitOptions(split);
  return { taskId: taskKey, ...parseSplitSizes(split), seed: undefined, ...(options ? { options } : {}) };
}

/**
 * How a run found by a second delivery ended, from the split token it recorded before publishing:
 * published → split; another split holds its version → skipped (1008); not published and the run
 * outlived the function → failed; its version past the published window → unknown. Undefined
 * while the first delivery may still be running.
 */
async function settlementOf(
  store: Store,
  taskKey: string,
  run: RunRecord,
  now: Date,
): Promise<RunSettlement | undefined> {
  const stopped = Date.parse(run.startedAt) + RUN_STALE_MS < now.getTime();
  const died: RunSettlement = {
    status: "failed",
    code: 1500,
    detail: "the run stopped before its split was published",
  };
  if (run.splitToken === undefined || run.splitVersion === undefined) return stopped ? died : undefined;
  const standing = await store.standing(taskKey, { version: run.splitVersion, token: run.splitToken });
  if (standing === "published") return { status: "split", splitVersion: run.splitVersion };
  if (standing === "lost") return { status: "skipped", code: 1008, detail: "another split was published first" };
  if (standing === "unknown") return { status: "unknown", detail: "its split's version has left the published window" };
  return stopped ? died : undefined;
}

/**
 * One delivery of a schedule's run. Reads the schedule item: gone, deleted, disabled or of another
 * revision, it does nothing (an older revision first writes the item's schedule to the engine again).
 * Then records the run once per scheduled time (`running`), splits with the schedule's `split` and
 * a fresh seed, the split's version and token noted before it publishes, and settles the record.
 * A second delivery that finds the record settles a run left running from its token, and splits
 * nothing. One log line a run, and the ResplitTasks metric by outcome.
 */
export async function runSchedule(
  store: Store,
  engine: ScheduleEngine,
  input: RunInput,
  options: RunOptions = {},
): Promise<{ results: ResplitResult[] }> {
  const now = options.now?.() ?? new Date();
  const deadline = options.deadline ?? Date.now() + store.config.budgetMs;
  const log =
    options.log ??
    (({ level, msg, ...fields }: Record<string, unknown>) => serviceLog(level as Level, String(msg), fields));
  const { task_key: taskKey, scheduled_time: scheduledAt } = input;
  const taskId = shownTaskId(taskKey);
  const line = { task_id: taskId, scheduled_at: scheduledAt, revision: input.revision };
  const nothing = (reason: string) => {
    log({ level: "info", msg: "resplit", ...line, outcome: "none", reason });
    return { results: [] };
  };

  const schedule = await store.schedules.read(taskKey, deadline);
  if (!schedule || schedule.state === "deleted") return nothing("the task has no schedule");
  if (schedule.revision > input.revision) {
    await engine.put(scheduleName(taskKey), engineScheduleOf(taskKey, schedule, now));
    await store.schedules.mark(taskKey, schedule.revision, "active", deadline);
    return nothing(`revision ${input.revision} is replaced by ${schedule.revision}: the scheduler has it now`);
  }
  if (schedule.revision !== input.revision) return nothing(`the schedule is at revision ${schedule.revision}`);
  if (!schedule.enabled) return nothing("the schedule is disabled");
  // Its revision fired: the engine has it, whatever a failed PUT left on the item.
  if (schedule.state === "pending") await store.schedules.mark(taskKey, schedule.revision, "active", deadline);

  const earlier = await store.schedules.claimRun(
    taskKey,
    { scheduledAt, revision: input.revision, startedAt: now.toISOString() },
    deadline,
  );
  if (earlier) {
    const settlement = earlier.status === "running" ? await settlementOf(store, taskKey, earlier, now) : undefined;
    if (settlement) await store.schedules.settleRun(taskKey, scheduledAt, settlement, deadline);
    return nothing(
      `delivered again: the run is ${settlement ? `settled now as ${settlement.status}` : earlier.status}`,
    );
  }

  let result: ResplitResult;
  let settlement: RunSettlement;
  let failure: unknown;
  try {
    const split = await splitTask(store, scheduledSpec(taskKey, schedule.split), deadline, {
      beforePublish: (ref) => store.schedules.noteRunSplit(taskKey, scheduledAt, ref, deadline),
    });
    settlement = { status: "split", splitVersion: split.version };
    result = splitOutcome(taskId, split);
  } catch (error) {
    failure = error;
    const refusal = error instanceof ServiceError ? error : undefined;
    const code = refusal?.code ?? 1500;
    const detail = (refusal?.detail ?? refusal?.message ?? "unexpected error").replaceAll(taskKey, taskId);
    if (RUN_SKIPPED_CODES.has(code)) {
      settlement = { status: "skipped", code, detail };
      result = { task_id: taskId, outcome: "skipped", reason: detail, code };
    } else {
      settlement = { status: refusal?.outcome === "unknown" ? "unknown" : "failed", code, detail };
      result = { task_id: taskId, outcome: "failed", reason: detail, code };
    }
  }
  // A split that ran out of time still gets its outcome recorded.
  const settleBy = Math.max(deadline, Date.now() + SETTLE_MS);
  await store.schedules.settleRun(taskKey, scheduledAt, settlement, settleBy);
  await store.schedules.expireOldRuns(taskKey, settleBy).catch((error: unknown) => {
    log({ level: "warn", msg: "expiring old schedule runs failed", task_id: taskId, error: describeError(error) });
  });
  log({
    level: result.outcome === "failed" ? "error" : result.outcome === "skipped" ? "warn" : "info",
    msg: "resplit",
    ...line,
    ...result,
    run: settlement.status,
    ...(failure === undefined || result.outcome !== "failed" ? {} : { error: describeError(failure) }),
  });
  publishResplitOutcome(result.outcome);
  return { results: [{ ...result, scheduled_at: scheduledAt }] };
}
