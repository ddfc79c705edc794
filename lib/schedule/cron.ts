import { Cron } from "croner";

/**
 * The six fields of an EventBridge Scheduler cron expression, checked against its documented
 * grammar, and handed to croner (which does the calendar arithmetic of L, W and #) in a form with
 * numbers only and no shorthand, so that nothing croner accepts beyond AWS's grammar (a `+`, a
 * Sunday of 0, `?` in any field, years past 2199) gets through.
 */

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names of the values from `min` on (JAN = 1, SUN = 1). */
  readonly names?: readonly string[];
}

const MINUTES: FieldRule = { name: "minutes", min: 0, max: 59 };
const HOURS: FieldRule = { name: "hours", min: 0, max: 23 };
const DAY_OF_MONTH: FieldRule = { name: "day-of-month", min: 1, max: 31 };
const MONTH: FieldRule = {
  name: "month",
  min: 1,
  max: 12,
  names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
};
const DAY_OF_WEEK: FieldRule = {
  name: "day-of-week",
  min: 1,
  max: 7,
  names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};
const YEAR: FieldRule = { name: "year", min: 1970, max: 2199 };

const FIELD_COUNT = 6;
const MAX_NTH_WEEKDAY = 5;
const SATURDAY = 7;

/** Why a cron expression is refused: a sentence naming the field and the rule. */
export class CronSyntaxError extends Error {}

const fail = (rule: FieldRule, text: string, why: string): never => {
  throw new CronSyntaxError(`${rule.name} field "${text}": ${why}`);
};

function fieldValue(rule: FieldRule, text: string, whole: string): number {
  const byName = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  if (byName >= 0) return rule.min + byName;
  if (!/^\d{1,4}$/.test(text)) {
    const names = rule.names ? ` or ${rule.names[0]}–${rule.names.at(-1)}` : "";
    return fail(rule, whole, `"${text}" is not a number ${rule.min}–${rule.max}${names}`);
  }
  const value = Number(text);
  if (value < rule.min || value > rule.max) fail(rule, whole, `${value} is outside ${rule.min}–${rule.max}`);
  return value;
}

/** One item of a list: a value, a range `a-b`, or an increment `*` / `a` / `a-b` followed by `/n`. */
function listItem(rule: FieldRule, item: string, whole: string, increments: boolean): string {
  const [base = "", step, ...extra] = item.split("/");
  if (extra.length > 0) fail(rule, whole, `"${item}" has more than one /`);
  if (step !== undefined && !increments) fail(rule, whole, "/ is not allowed in this field");
  if (base === "*") {
    if (step === undefined) fail(rule, whole, "* stands alone, not in a list");
    return `${rule.min}-${rule.max}/${stepOf(rule, step!, whole)}`;
  }
  const [from = "", to, ...more] = base.split("-");
  if (more.length > 0) fail(rule, whole, `"${base}" is not a range a-b`);
  const start = fieldValue(rule, from, whole);
  const end = to === undefined ? (step === undefined ? start : rule.max) : fieldValue(rule, to, whole);
  if (end < start) fail(rule, whole, `the range ${from}-${to} runs backwards`);
  if (step !== undefined) return `${start}-${end}/${stepOf(rule, step, whole)}`;
  return start === end ? `${start}` : `${start}-${end}`;
}

function stepOf(rule: FieldRule, text: string, whole: string): number {
  const limit = rule.max - rule.min;
  const step = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(step >= 1 && step <= Math.max(limit, 1))) fail(rule, whole, `the increment "${text}" is not 1–${limit}`);
  return step;
}

/** `*`, or a comma-separated list of values, ranges and (where allowed) increments. */
function list(rule: FieldRule, text: string, increments = true): string {
  if (text === "*") return "*";
  if (text === "") fail(rule, text, "empty");
  return text
    .split(",")
    .map((item) => listItem(rule, item, text, increments))
    .join(",");
}

/** Day-of-month: a list, `L` (the month's last day), or `nW` (the weekday nearest day n). */
function dayOfMonth(text: string): string {
  if (text === "L") return "L";
  const weekday = /^(\d{1,2})W$/.exec(text);
  if (weekday) return `${fieldValue(DAY_OF_MONTH, weekday[1]!, text)}W`;
  if (/[LW]/.test(text)) fail(DAY_OF_MONTH, text, "L stands alone and W only follows one day, as in 15W");
  return list(DAY_OF_MONTH, text);
}

/** Day-of-week: a list (no increments), `L` (Saturday), `dL` (the month's last day d), or `d#n` (its nth). */
function dayOfWeek(text: string): string {
  if (text === "L") return `${SATURDAY}`;
  const last = /^(\w+)L$/.exec(text);
  if (last) return `${fieldValue(DAY_OF_WEEK, last[1]!, text)}#L`;
  const nth = /^(\w+)#(\w+)$/.exec(text);
  if (nth) {
    const day = fieldValue(DAY_OF_WEEK, nth[1]!, text);
    const n = /^\d$/.test(nth[2]!) ? Number(nth[2]) : 0;
    if (n < 1 || n > MAX_NTH_WEEKDAY) fail(DAY_OF_WEEK, text, `the instance after # must be 1–${MAX_NTH_WEEKDAY}`);
    return `${day}#${n}`;
  }
  if (text.includes("#")) fail(DAY_OF_WEEK, text, "# takes one day and one instance, as in 3#2, alone in the field");
  if (text.includes("L")) fail(DAY_OF_WEEK, text, "L stands alone or follows one day, as in 6L");
  return list(DAY_OF_WEEK, text, false);
}

/**
 * The inside of `cron(…)`: minutes hours day-of-month month day-of-week year, exactly one of the
 * two day fields `?`; names and letters in any case. Returns the croner pattern (seconds first,
 * weekdays numbered 1 = Sunday).
 */
export function cronPattern(fields: string): string {
  const parts = fields.toUpperCase().split(" ");
  if (parts.length !== FIELD_COUNT || parts.some((part) => part === "")) {
    throw new CronSyntaxError(
      `cron takes ${FIELD_COUNT} fields separated by single spaces (minutes hours day-of-month month day-of-week year), got ${parts.filter(Boolean).length}`,
    );
  }
  const [minutes, hours, dom, month, dow, year] = parts as [string, string, string, string, string, string];
  if ((dom === "?") === (dow === "?")) {
    throw new CronSyntaxError("exactly one of day-of-month and day-of-week must be ?");
  }
  for (const [rule, text] of [
    [MINUTES, minutes],
    [HOURS, hours],
    [MONTH, month],
    [YEAR, year],
  ] as const) {
    if (text.includes("?")) fail(rule, text, "? is only for day-of-month or day-of-week");
  }
  return [
    "0",
    list(MINUTES, minutes),
    list(HOURS, hours),
    dom === "?" ? "*" : dayOfMonth(dom),
    list(MONTH, month),
    dow === "?" ? "*" : dayOfWeek(dow),
    year === "*" ? `${YEAR.min}-${YEAR.max}` : list(YEAR, year),
  ].join(" ");
}

/**
 * The next wall-clock minute after `wallClock` that `pattern` names, both as UTC milliseconds of
 * the local date and time (the time zone is applied by the caller), or null when there is none
 * before 2200.
 */
export function wallClockCalendar(pattern: string): (wallClock: number) => number | null {
  const calendar = new Cron(pattern, { mode: "7-part", alternativeWeekdays: true, domAndDow: true, utcOffset: 0 });
  return (wallClock) => calendar.nextRun(new Date(wallClock))?.getTime() ?? null;
}
