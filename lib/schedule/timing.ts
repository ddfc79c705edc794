import type { ScheduleItem } from "../store/schedules.ts";
import type { EngineSchedule } from "./engine.ts";
import { parseExpression } from "./expression.ts";
import { nextRunAt, type ScheduleTiming } from "./next-run.ts";

const MINUTE_MS = 60_000;

/** The timing of a stored schedule: its expression, time zone and the start date the service gave it. */
export const timingOf = (schedule: Pick<ScheduleItem, "expression" | "timezone" | "startDate">): ScheduleTiming => ({
  expression: parseExpression(schedule.expression),
  timezone: schedule.timezone,
  startDate: new Date(schedule.startDate),
});

/** When a stored schedule runs next after `now`: null when it is disabled or will never run again. */
export function nextRunOf(schedule: ScheduleItem, now: Date): Date | null {
  return schedule.enabled ? nextRunAt(timingOf(schedule), now) : null;
}

/**
 * The StartDate to give the engine when (re-)writing a schedule at `now`: the stored one while it
 * is still ahead; once it has passed (Scheduler refuses a start date in the past), for a rate its
 * next run, so the runs keep their times, and for a cron the minute that follows `now`.
 */
export function engineStartDate(timing: ScheduleTiming, now: Date): Date {
  if (timing.startDate.getTime() > now.getTime()) return timing.startDate;
  if (timing.expression.kind === "rate") return nextRunAt(timing, now) ?? timing.startDate;
  return new Date((Math.floor(now.getTime() / MINUTE_MS) + 1) * MINUTE_MS);
}

/** The engine's schedule of a stored one, for the task stored under `taskKey`. */
export function engineScheduleOf(taskKey: string, schedule: ScheduleItem, now: Date): EngineSchedule {
  return {
    expression: schedule.expression,
    timezone: schedule.timezone,
    startDate: engineStartDate(timingOf(schedule), now),
    windowMinutes: schedule.windowMinutes,
    enabled: schedule.enabled,
    input: { task_key: taskKey, revision: schedule.revision },
  };
}

/** A JSON value with its object keys sorted: equal settings give equal text, whatever order storage kept. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonical(entry)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The settings a PUT gives: the same ones stored make the PUT write nothing. */
export type ScheduleSettings = Pick<ScheduleItem, "expression" | "timezone" | "split" | "enabled" | "windowMinutes">;

export const sameSettings = (a: ScheduleSettings, b: ScheduleSettings): boolean =>
  a.expression === b.expression &&
  a.timezone === b.timezone &&
  a.enabled === b.enabled &&
  a.windowMinutes === b.windowMinutes &&
  canonical(a.split) === canonical(b.split);
