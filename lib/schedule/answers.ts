import { SPLIT_FIELDS } from "../http/fields.ts";
import { JOBS, timeoutSeconds } from "../routes.ts";
import type { RunRecord, ScheduleItem } from "../store/index.ts";
import { shownTaskId } from "../store/task-key.ts";
import { scheduledTimeText } from "./engine.ts";
import { nextRunOf } from "./timing.ts";

export const SET_MSG = "调度设置成功";
export const READ_MSG = "调度查询成功";
export const DELETE_MSG = "调度删除成功";

/** A run still `running` this long after it started has stopped: the run function's timeout, and a minute. */
export const RUN_STALE_MS = (timeoutSeconds(JOBS[0]) + 60) * 1000;

/** A split body's fields in the order of the PUT's (storage keeps a map's keys in no order). */
const inFieldOrder = (split: Record<string, unknown>) =>
  Object.fromEntries(SPLIT_FIELDS.filter((field) => field in split).map((field) => [field, split[field]]));

/** The schedule as stored, with when it runs next (null: disabled, or no run left). */
export function scheduleBody(taskKey: string, schedule: ScheduleItem, now: Date) {
  const next = nextRunOf(schedule, now);
  return {
    task_id: shownTaskId(taskKey),
    expression: schedule.expression,
    timezone: schedule.timezone,
    split: inFieldOrder(schedule.split),
    enabled: schedule.enabled,
    window_minutes: schedule.windowMinutes,
    revision: schedule.revision,
    state: schedule.state,
    next_run_at: next && scheduledTimeText(next),
  };
}

/**
 * The runs a GET shows, newest first: settled ones with their outcome; one still running is left
 * out until it ends, unless it has outlived the run function, when its outcome is unknown.
 */
export function runsBody(runs: readonly RunRecord[], now: Date) {
  return runs.flatMap((run) => {
    const stale = run.status === "running" && Date.parse(run.startedAt) + RUN_STALE_MS < now.getTime();
    if (run.status === "running" && !stale) return [];
    return [
      {
        scheduled_at: run.scheduledAt,
        finished_at: run.finishedAt ?? null,
        outcome: run.status === "running" ? "unknown" : run.status,
        version: run.status === "split" ? (run.splitVersion ?? null) : null,
        code: run.code ?? null,
        detail: stale ? "the run stopped before it recorded its outcome" : (run.detail ?? null),
      },
    ];
  });
}
