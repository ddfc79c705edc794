import { refuse } from "./invalid.ts";

export const DEFAULT_TIMEZONE = "UTC";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** An IANA zone name: segments of letters, digits, `_`, `-`, `+`, each opening with a capital (America/Port-au-Prince, Etc/GMT+5, UTC). */
const IANA_NAME = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/;

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timezone: string): Intl.DateTimeFormat {
  let format = formats.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(timezone, format);
  }
  return format;
}

/**
 * A schedule's `timezone`: an IANA name as EventBridge Scheduler takes it (default UTC). Refused
 * (1028): anything Intl does not know, a UTC offset such as +01:00, and a canonical name in other
 * capitals than its own (america/new_york).
 */
export function parseTimezone(value: unknown): string {
  if (value === undefined) return DEFAULT_TIMEZONE;
  if (typeof value !== "string" || !IANA_NAME.test(value)) {
    return refuse("timezone", "must be an IANA time zone name such as Europe/Berlin", value);
  }
  let canonical: string;
  try {
    canonical = formatFor(value).resolvedOptions().timeZone;
  } catch {
    return refuse("timezone", "is not a time zone this service knows (an IANA name such as Asia/Shanghai)", value);
  }
  if (canonical !== value && canonical.toLowerCase() === value.toLowerCase()) {
    return refuse("timezone", `must be spelt ${canonical}`, value);
  }
  return value;
}

/**
 * The local date and time at `instant` in `timezone`, as the milliseconds of that date and time in
 * UTC ("wall-clock milliseconds"), to the second.
 */
function wallClockAt(instant: number, timezone: string): number {
  const fields: Record<string, number> = {};
  for (const part of formatFor(timezone).formatToParts(instant)) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The wall-clock minute `instant` falls in. */
export const wallClockMinute = (instant: number, timezone: string): number =>
  Math.floor(wallClockAt(instant, timezone) / MINUTE_MS) * MINUTE_MS;

/**
 * Every instant whose local date and time in `timezone` is `wallClock`, earliest first: none in a
 * daylight-saving gap (spring forward), two when the clock is set back (fall back), else one.
 */
export function instantsAt(wallClock: number, timezone: string): number[] {
  const candidates = new Set<number>();
  for (const probe of [wallClock - DAY_MS, wallClock, wallClock + DAY_MS]) {
    candidates.add(wallClock - (wallClockAt(probe, timezone) - probe));
  }
  return [...candidates].filter((instant) => wallClockAt(instant, timezone) === wallClock).sort((a, b) => a - b);
}

/** Far enough either side of any wall-clock time to reach its instant: offsets stay within -12h and +14h. */
const OFFSET_BOUND_MS = 15 * 3_600_000;

/**
 * For a wall-clock time the clock skips (see `instantsAt`): the local time it jumps to, where the
 * gap ends. Found by bisecting minutes for the first instant whose local time is past `wallClock`.
 */
export function endOfGap(wallClock: number, timezone: string): number {
  let before = Math.floor((wallClock - OFFSET_BOUND_MS) / MINUTE_MS);
  let after = Math.ceil((wallClock + OFFSET_BOUND_MS) / MINUTE_MS);
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (wallClockAt(middle * MINUTE_MS, timezone) > wallClock) after = middle;
    else before = middle;
  }
  return wallClockAt(after * MINUTE_MS, timezone);
}
