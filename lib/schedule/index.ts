/**
 * Per-task schedules, the part that needs no storage and no AWS: what a schedule's settings may
 * be, when it runs next, and what its EventBridge Scheduler schedule is called.
 *
 * - expression.ts — `rate(…)` and `cron(…)` as EventBridge Scheduler reads recurring expressions
 * - cron.ts — the six cron fields checked against AWS's grammar, then handed to croner for the
 *   calendar (L, W, #) on wall-clock time
 * - timezone.ts — the IANA `timezone` setting, and local date and time ↔ instants across daylight saving
 * - next-run.ts — the StartDate the service sets at a PUT, and `next_run_at` with Scheduler's
 *   daylight-saving rules (a skipped local time does not run, a repeated one runs once)
 * - window.ts — `window_minutes`, 0–60
 * - name.ts — the schedule name: a fixed-length base32 hash of the stored task key
 * - invalid.ts — the refusal of a setting (code 1028, `which` and an English detail)
 */
export { parseExpression, type ScheduleExpression } from "./expression.ts";
export { InvalidScheduleSetting, type ScheduleSetting } from "./invalid.ts";
export { SCHEDULE_NAME_LENGTH, scheduleName } from "./name.ts";
export { nextRunAt, type ScheduleTiming, startDateFor } from "./next-run.ts";
export { DEFAULT_TIMEZONE, parseTimezone } from "./timezone.ts";
export { MAX_WINDOW_MINUTES, parseWindowMinutes } from "./window.ts";
