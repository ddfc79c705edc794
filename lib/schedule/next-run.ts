import type { ScheduleExpression } from "./expression.ts";
import { endOfGap, instantsAt, wallClockMinute } from "./timezone.ts";

const MINUTE_MS = 60_000;

/** What fixes a schedule's run times: its expression, its time zone and the start date the service gave it. */
export interface ScheduleTiming {
  readonly expression: ScheduleExpression;
  readonly timezone: string;
  /** EventBridge Scheduler's StartDate: the first run of a rate, the earliest run of a cron. */
  readonly startDate: Date;
}

/**
 * The StartDate the service gives a schedule set at `setAt` (its PUT), on a whole minute as
 * Scheduler runs: for `rate(…)` one interval after the minute that follows the PUT, so the first
 * run is one interval after it; for `cron(…)` the minute that follows the PUT, so the first run
 * is the next cron time after it.
 */
export function startDateFor(expression: ScheduleExpression, setAt: Date): Date {
  const nextMinute = (Math.floor(setAt.getTime() / MINUTE_MS) + 1) * MINUTE_MS;
  return new Date(expression.kind === "rate" ? nextMinute + expression.intervalMs : nextMinute);
}

/**
 * The first run strictly after `after`, or null when there is none (a cron whose years are over).
 * A rate runs at the start date and every interval after it, in fixed durations. A cron runs at
 * the local times its fields name in the schedule's time zone, as EventBridge Scheduler documents
 * daylight saving: a local time the clock skips (spring forward) does not run, and a local time the
 * clock passes twice (fall back) runs once, the first time.
 */
export function nextRunAt(timing: ScheduleTiming, after: Date): Date | null {
  const { expression, timezone } = timing;
  const start = timing.startDate.getTime();
  const from = after.getTime();
  if (expression.kind === "rate") {
    if (from < start) return new Date(start);
    return new Date(start + (Math.floor((from - start) / expression.intervalMs) + 1) * expression.intervalMs);
  }
  // Runs are the first instants of matching wall-clock minutes, and they rise with the minutes.
  const floor = Math.max(from, start - 1);
  let wallClock = wallClockMinute(floor, timezone);
  for (;;) {
    const next = expression.nextWallClock(wallClock);
    if (next === null) return null;
    const first = instantsAt(next, timezone)[0];
    if (first !== undefined && first > floor) return new Date(first);
    wallClock = first === undefined ? endOfGap(next, timezone) - MINUTE_MS : next;
  }
}
