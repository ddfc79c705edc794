import { forEachLimited } from "../concurrency.ts";
import { describeError, type ErrorCode, ServiceError } from "../errors.ts";
import { parseTaskId } from "../http/validate.ts";
import { type Level, log as serviceLog } from "../log.ts";
import { publishResplitOutcome } from "../metrics.ts";
import { TESTING, TRAINING, VERIFYING } from "../model.ts";
import type { Store } from "../store/index.ts";
import { splitTask } from "./split.ts";

/** What happened to one task of a scheduled re-split. */
export type ResplitResult =
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
  | { task_id: string; outcome: "failed"; reason: string; code: ErrorCode };

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

const asObject = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/**
 * The task ids of a re-split event: `{"task_ids":[…]}` as the stack's schedule rule delivers it, or
 * an EventBridge event whose `detail` carries them. Entries are checked one by one later, so one
 * bad id cannot stop the others; an event without a list is a configuration error and throws.
 */
export function parseResplitEvent(event: unknown): unknown[] {
  const body = asObject(event);
  const detail = asObject(body?.detail);
  const ids = detail && Object.hasOwn(detail, "task_ids") ? detail.task_ids : body?.task_ids;
  if (!Array.isArray(ids)) {
    throw new TypeError('a re-split event must be {"task_ids":[…]} or an EventBridge event whose detail is');
  }
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
      const result: ResplitResult = {
        task_id: taskId,
        outcome: "split",
        version: split.version,
        seed: split.seed,
        training_count: split.drawn[TRAINING].length,
        verifying_count: split.drawn[VERIFYING].length,
        testing_count: split.drawn[TESTING].length,
        unassigned_count: split.unassignedCount,
      };
      return { result };
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
