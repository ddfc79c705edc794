import { CronSyntaxError, cronPattern, wallClockCalendar } from "./cron.ts";
import { refuse } from "./invalid.ts";

/** EventBridge Scheduler's limit on a schedule expression. */
const MAX_EXPRESSION_CHARS = 256;
/** Ours: far past any useful interval (a million days is 2,700 years), and every time stays exact. */
const MAX_RATE_VALUE = 1_000_000;

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
type RateUnit = keyof typeof UNIT_MS;

/** A recurring schedule expression as EventBridge Scheduler reads it, parsed once. */
export type ScheduleExpression =
  | {
      readonly kind: "rate";
      readonly text: string;
      readonly value: number;
      readonly unit: RateUnit;
      /** A fixed duration: a day is 24 hours, whatever daylight saving does to the clock. */
      readonly intervalMs: number;
    }
  | {
      readonly kind: "cron";
      readonly text: string;
      /** The next wall-clock minute the fields name after a wall-clock time (see cron.ts). */
      readonly nextWallClock: (wallClock: number) => number | null;
    };

const RATE = /^rate\((\d+) (minutes?|hours?|days?)\)$/;
const CRON = /^cron\((.*)\)$/s;
const FORMS = "must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year)";

/**
 * A schedule's `expression`: `rate(value unit)` with unit minute(s), hour(s) or day(s) (singular
 * exactly when the value is 1), or `cron(…)` in EventBridge's six fields; at most one run a
 * minute, which both forms keep by construction. Anything else is refused (1028).
 */
export function parseExpression(value: unknown): ScheduleExpression {
  if (typeof value !== "string") return refuse("expression", FORMS, value);
  if (value.length > MAX_EXPRESSION_CHARS) {
    return refuse("expression", `must be at most ${MAX_EXPRESSION_CHARS} characters (${value.length})`, value);
  }
  const rate = RATE.exec(value);
  if (rate) return parseRate(value, rate[1]!, rate[2]!);
  const cron = CRON.exec(value);
  if (cron) {
    let pattern: string;
    try {
      pattern = cronPattern(cron[1]!);
    } catch (error) {
      if (error instanceof CronSyntaxError) return refuse("expression", `cron: ${error.message}`, value);
      throw error;
    }
    return { kind: "cron", text: value, nextWallClock: wallClockCalendar(pattern) };
  }
  if (value.startsWith("rate(")) {
    return refuse(
      "expression",
      "must be rate(value unit): a whole number, one space, minute(s), hour(s) or day(s)",
      value,
    );
  }
  if (value.startsWith("at(")) return refuse("expression", "must recur: at(…) runs once", value);
  return refuse("expression", FORMS, value);
}

function parseRate(text: string, digits: string, unitText: string): ScheduleExpression {
  const count = Number(digits);
  if (!/^[1-9]\d*$/.test(digits) || count > MAX_RATE_VALUE) {
    return refuse("expression", `rate value must be a whole number 1–${MAX_RATE_VALUE} without leading zeros`, text);
  }
  const plural = unitText.endsWith("s");
  if (plural === (count === 1)) {
    return refuse(
      "expression",
      `rate unit is singular exactly when the value is 1 (rate(1 hour), rate(2 hours))`,
      text,
    );
  }
  const unit = (plural ? unitText.slice(0, -1) : unitText) as RateUnit;
  return { kind: "rate", text, value: count, unit, intervalMs: count * UNIT_MS[unit] };
}
