/**
 * Per-task schedules. The part that needs no storage and no AWS: what a schedule's settings may
 * be, when it runs next, and what its EventBridge Scheduler schedule is called. Then what keeps the
 * two stores in step (the schedule item through the store's `schedules`, the engine after it), the
 * engines and the answers.
 *
 * - expression.ts — `rate(…)` and `cron(…)` as EventBridge Scheduler reads recurring expressions
 * - cron.ts — the six cron fields checked against AWS's grammar, then handed to croner for the
 *   calendar (L, W, #) on wall-clock time
 * - timezone.ts — the IANA `timezone` setting, and local date and time ↔ instants across daylight saving
 * - next-run.ts — the StartDate the service sets at a PUT, and `next_run_at` with Scheduler's
 *   daylight-saving rules (a skipped local time does not run, a repeated one runs once)
 * - window.ts — `window_minutes`, 0–60, and `enabled`
 * - name.ts — the schedule name: a fixed-length base32 hash of the stored task key
 * - invalid.ts — the refusal of a setting (code 1028, `which` and an English detail)
 * - timing.ts — a stored schedule's timing, next run, the engine's view of it, and when two are the same
 * - manage.ts — PUT, GET and DELETE: the schedule item first, the engine after it, `pending` between
 * - engine.ts — what runs schedules (`ScheduleEngine`) and what a run receives (`RunInput`);
 *   aws-engine.ts (EventBridge Scheduler), local-engine.ts (timers in the local server),
 *   runtime.ts (which one the functions use)
 * - answers.ts — the schedule and its runs as answers show them
 */
export { DELETE_MSG, READ_MSG, RUN_STALE_MS, runsBody, SET_MSG, scheduleBody } from "./answers.ts";
export type { RunInput, ScheduleEngine } from "./engine.ts";
export { parseExpression, type ScheduleExpression } from "./expression.ts";
export { InvalidScheduleSetting, type ScheduleSetting } from "./invalid.ts";
export { deleteSchedule, readSchedule, setSchedule } from "./manage.ts";
export { SCHEDULE_NAME_LENGTH, scheduleName } from "./name.ts";
export { nextRunAt, type ScheduleTiming, startDateFor } from "./next-run.ts";
export { localScheduleEngine, scheduleEngine, useScheduleEngine } from "./runtime.ts";
export { DEFAULT_TIMEZONE, parseTimezone } from "./timezone.ts";
export { engineScheduleOf } from "./timing.ts";
export { MAX_WINDOW_MINUTES, parseEnabled, parseWindowMinutes } from "./window.ts";
