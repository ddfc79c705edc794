import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextRunAt, parseExpression, type ScheduleTiming, startDateFor } from "../../../lib/schedule/index.ts";
import { dailyCron, validCron } from "./arbitraries.ts";
import { referenceCron, referenceMatches, referenceNext } from "./reference.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const LONG_AGO = new Date("2000-01-01T00:00:00Z");

const timing = (expression: string, timezone = "UTC", startDate = LONG_AGO): ScheduleTiming => ({
  expression: parseExpression(expression),
  timezone,
  startDate,
});

/** The next `count` runs after `after`, as ISO strings. */
function runs(schedule: ScheduleTiming, after: string, count: number): string[] {
  const out: string[] = [];
  let at: Date | null = new Date(after);
  while (out.length < count && (at = nextRunAt(schedule, at)) !== null) out.push(at.toISOString());
  return out;
}

describe("nextRunAt: cron across daylight saving, as EventBridge Scheduler documents it", () => {
  it.each([
    // New York springs forward on 2026-03-08 at 02:00 EST to 03:00 EDT: 02:30 does not exist that day.
    [
      "cron(30 2 * * ? *)",
      "America/New_York",
      "2026-03-07T12:00:00Z",
      ["2026-03-09T06:30:00.000Z", "2026-03-10T06:30:00.000Z"],
    ],
    [
      "cron(0 9 ? * MON *)",
      "America/New_York",
      "2026-03-01T00:00:00Z",
      ["2026-03-02T14:00:00.000Z", "2026-03-09T13:00:00.000Z"],
    ],
    [
      "cron(* * * * ? *)",
      "America/New_York",
      "2026-03-08T06:58:00Z",
      ["2026-03-08T06:59:00.000Z", "2026-03-08T07:00:00.000Z"],
    ],
    // It falls back on 2026-11-01 at 02:00 EDT to 01:00 EST: 01:00–01:59 happen twice and run once, the first time.
    [
      "cron(30 1 * * ? *)",
      "America/New_York",
      "2026-10-31T12:00:00Z",
      ["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"],
    ],
    [
      "cron(0/20 1 * * ? *)",
      "America/New_York",
      "2026-11-01T05:30:00Z",
      ["2026-11-01T05:40:00.000Z", "2026-11-02T06:00:00.000Z"],
    ],
    [
      "cron(* * * * ? *)",
      "America/New_York",
      "2026-11-01T05:58:30Z",
      ["2026-11-01T05:59:00.000Z", "2026-11-01T07:00:00.000Z"],
    ],
    // Asked from inside the second 01:00–01:59, the repeated minutes are already run.
    [
      "cron(15 * * * ? *)",
      "America/New_York",
      "2026-11-01T06:05:00Z",
      ["2026-11-01T07:15:00.000Z", "2026-11-01T08:15:00.000Z"],
    ],
    // Berlin springs forward on 2026-03-29 at 02:00 CET and falls back on 2026-10-25 at 03:00 CEST.
    [
      "cron(0/30 2 * * ? *)",
      "Europe/Berlin",
      "2026-03-28T12:00:00Z",
      ["2026-03-30T00:00:00.000Z", "2026-03-30T00:30:00.000Z"],
    ],
    [
      "cron(15 2 ? * SUN *)",
      "Europe/Berlin",
      "2026-10-20T00:00:00Z",
      ["2026-10-25T00:15:00.000Z", "2026-11-01T01:15:00.000Z"],
    ],
    [
      "cron(0 12 * * ? *)",
      "Europe/Berlin",
      "2026-03-28T00:00:00Z",
      ["2026-03-28T11:00:00.000Z", "2026-03-29T10:00:00.000Z"],
    ],
    // A zone 5:45 ahead of UTC, and the southern hemisphere (Sydney leaves summer time on 2026-04-05 at 03:00).
    [
      "cron(0 9 * * ? *)",
      "Asia/Kathmandu",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T03:15:00.000Z", "2026-01-02T03:15:00.000Z"],
    ],
    [
      "cron(30 2 * * ? *)",
      "Australia/Sydney",
      "2026-04-04T00:00:00Z",
      ["2026-04-04T15:30:00.000Z", "2026-04-05T16:30:00.000Z"],
    ],
  ])("%s in %s after %s", (expression, timezone, after, expected) => {
    expect(runs(timing(expression, timezone), after, expected.length)).toEqual(expected);
  });
});

describe("nextRunAt: cron fields", () => {
  it.each([
    ["cron(0 12 L * ? *)", "2026-02-01T00:00:00Z", ["2026-02-28T12:00:00.000Z", "2026-03-31T12:00:00.000Z"]],
    // 2026-08-15 is a Saturday (→ Friday 14th); 2026-08-01 too, and 1W stays in August (→ Monday 3rd).
    ["cron(0 12 15W * ? *)", "2026-08-01T00:00:00Z", ["2026-08-14T12:00:00.000Z", "2026-09-15T12:00:00.000Z"]],
    ["cron(0 12 1W * ? *)", "2026-07-15T00:00:00Z", ["2026-08-03T12:00:00.000Z", "2026-09-01T12:00:00.000Z"]],
    // A month without day 31 has no 31W; 2026-05-31 is a Sunday (→ Friday 29th).
    ["cron(0 12 31W * ? *)", "2026-02-01T00:00:00Z", ["2026-03-31T12:00:00.000Z", "2026-05-29T12:00:00.000Z"]],
    ["cron(15 10 ? * 6L *)", "2026-01-01T00:00:00Z", ["2026-01-30T10:15:00.000Z", "2026-02-27T10:15:00.000Z"]],
    ["cron(0 9 ? * 3#2 *)", "2026-02-01T00:00:00Z", ["2026-02-10T09:00:00.000Z", "2026-03-10T09:00:00.000Z"]],
    ["cron(0 9 ? * SUN#5 *)", "2026-01-01T00:00:00Z", ["2026-03-29T09:00:00.000Z", "2026-05-31T09:00:00.000Z"]],
    ["cron(0 9 ? * L *)", "2026-01-01T00:00:00Z", ["2026-01-03T09:00:00.000Z", "2026-01-10T09:00:00.000Z"]],
    ["cron(0/15 8-9 ? * MON-FRI *)", "2026-01-02T09:50:00Z", ["2026-01-05T08:00:00.000Z", "2026-01-05T08:15:00.000Z"]],
    ["cron(0 0 1 1 ? 2030)", "2026-01-01T00:00:00Z", ["2030-01-01T00:00:00.000Z"]],
    ["cron(0 0 1 1 ? 2026/3)", "2026-06-01T00:00:00Z", ["2029-01-01T00:00:00.000Z", "2032-01-01T00:00:00.000Z"]],
  ])("%s after %s", (expression, after, expected) => {
    expect(runs(timing(expression), after, expected.length)).toEqual(expected);
  });

  it("is null once an expression's years are over, or when its dates never come", () => {
    expect(nextRunAt(timing("cron(0 0 1 1 ? 2030)"), new Date("2030-01-01T00:00:00Z"))).toBeNull();
    expect(nextRunAt(timing("cron(0 12 29 2 ? 2199)"), new Date("2026-01-01T00:00:00Z"))).toBeNull();
    expect(nextRunAt(timing("cron(0 12 31 FEB ? *)"), new Date("2026-01-01T00:00:00Z"))).toBeNull();
    expect(nextRunAt(timing("cron(59 23 31 12 ? *)"), new Date("2199-12-31T23:59:00Z"))).toBeNull();
  });

  it("is null, and quick, for a local time that only ever falls in a gap", () => {
    const started = performance.now();
    // Every minute of 02:00–02:59 on New York's spring-forward Sunday: that hour never exists.
    expect(nextRunAt(timing("cron(* 2 ? 3 1#2 *)", "America/New_York"), new Date("2026-01-01T00:00:00Z"))).toBeNull();
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("startDateFor and the first run", () => {
  const setAt = new Date("2026-05-01T10:00:30.500Z");

  it("starts a rate one interval after the minute that follows the PUT, and runs every interval", () => {
    const expression = parseExpression("rate(5 minutes)");
    const startDate = startDateFor(expression, setAt);
    expect(startDate.toISOString()).toBe("2026-05-01T10:06:00.000Z");
    const schedule = { expression, timezone: "UTC", startDate };
    expect(runs(schedule, setAt.toISOString(), 3)).toEqual([
      "2026-05-01T10:06:00.000Z",
      "2026-05-01T10:11:00.000Z",
      "2026-05-01T10:16:00.000Z",
    ]);
    expect(nextRunAt(schedule, new Date("2026-05-01T10:06:00.000Z"))?.toISOString()).toBe("2026-05-01T10:11:00.000Z");
    expect(nextRunAt(schedule, new Date("2026-05-01T10:05:59.999Z"))?.toISOString()).toBe("2026-05-01T10:06:00.000Z");
  });

  it("keeps a day of a rate at 24 hours across daylight saving, whatever the time zone", () => {
    const expression = parseExpression("rate(1 day)");
    const startDate = startDateFor(expression, new Date("2026-03-06T06:59:10Z"));
    for (const timezone of ["UTC", "America/New_York"]) {
      expect(runs({ expression, timezone, startDate }, "2026-03-06T06:59:10Z", 3)).toEqual([
        "2026-03-07T07:00:00.000Z", // 02:00 EST
        "2026-03-08T07:00:00.000Z", // 03:00 EDT: the clock moved, the rate did not
        "2026-03-09T07:00:00.000Z",
      ]);
    }
  });

  it("starts a cron at the minute after the PUT: its first run is the next cron time after the PUT", () => {
    const expression = parseExpression("cron(* * * * ? *)");
    expect(startDateFor(expression, setAt).toISOString()).toBe("2026-05-01T10:01:00.000Z");
    const exactly = new Date("2026-05-01T10:01:00.000Z");
    const schedule = { expression, timezone: "UTC", startDate: startDateFor(expression, exactly) };
    expect(schedule.startDate.toISOString()).toBe("2026-05-01T10:02:00.000Z");
    expect(nextRunAt(schedule, exactly)?.toISOString()).toBe("2026-05-01T10:02:00.000Z");
    // Asked about a time before the start, it still answers the first run on or after the start.
    expect(nextRunAt(schedule, new Date("2026-01-01T00:00:00Z"))?.toISOString()).toBe("2026-05-01T10:02:00.000Z");
  });
});

/** Zones whose offset has not changed since 1986: wall clock = instant + offset. */
const FIXED_OFFSETS = {
  UTC: 0,
  "Asia/Tokyo": 540,
  "Asia/Kolkata": 330,
  "Asia/Kathmandu": 345,
  "America/Phoenix": -420,
};
const ZONES_WITH_DST = [
  "America/New_York",
  "Europe/Berlin",
  "Australia/Sydney",
  "Australia/Lord_Howe",
  "America/Santiago",
];
const instantIn = (from: string, to: string) =>
  fc.integer({ min: Date.parse(from), max: Date.parse(to) }).map((ms) => new Date(ms));

/** The instants of 2026 where `timezone`'s offset changes (to the minute). */
function transitions(timezone: string): number[] {
  const offset = (t: number) => wallClock(timezone, t) - t;
  const found: number[] = [];
  for (let t = Date.parse("2026-01-01T00:00:00Z"); t < Date.parse("2027-01-01T00:00:00Z"); t += HOUR_MS) {
    if (offset(t) === offset(t + HOUR_MS)) continue;
    let lo = t;
    let hi = t + HOUR_MS;
    while (hi - lo > MINUTE_MS) {
      const mid = Math.floor((lo + hi) / 2 / MINUTE_MS) * MINUTE_MS;
      if (offset(mid) === offset(lo)) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}

const displays = new Map<string, Intl.DateTimeFormat>();
/** The local date and time, read through a different Intl path than lib/schedule's (a Swedish date string). */
function wallClock(timezone: string, instant: number): number {
  let display = displays.get(timezone);
  if (!display) {
    display = new Intl.DateTimeFormat("sv-SE", { timeZone: timezone, dateStyle: "short", timeStyle: "medium" });
    displays.set(timezone, display);
  }
  return Date.parse(`${display.format(instant).replace(" ", "T")}Z`);
}

describe("nextRunAt (fast-check)", () => {
  it("agrees with the reference reading of the fields in zones without daylight saving", () => {
    let reached = 0;
    fc.assert(
      fc.property(
        validCron,
        fc.constantFrom(...(Object.keys(FIXED_OFFSETS) as (keyof typeof FIXED_OFFSETS)[])),
        instantIn("2025-01-01T00:00:00Z", "2035-01-01T00:00:00Z"),
        (expression, timezone, after) => {
          const offsetMs = FIXED_OFFSETS[timezone] * MINUTE_MS;
          const expected = referenceNext(referenceCron(expression), after.getTime() + offsetMs);
          const actual = nextRunAt(timing(expression, timezone), after);
          expect(actual?.getTime() ?? null).toBe(expected === null ? null : expected - offsetMs);
          if (expected !== null) reached++;
        },
      ),
      { numRuns: 300 },
    );
    expect(reached).toBeGreaterThanOrEqual(200);
  });

  it("runs near a daylight-saving change exactly where a minute-by-minute walk of the clock runs", () => {
    const changes = ZONES_WITH_DST.flatMap((timezone) => transitions(timezone).map((at) => ({ timezone, at })));
    expect(changes.length).toBe(2 * ZONES_WITH_DST.length);
    let reached = 0;
    fc.assert(
      fc.property(
        dailyCron,
        fc.constantFrom(...changes),
        fc.integer({ min: -30 * 60, max: 30 * 60 }),
        fc.integer({ min: 0, max: 59_999 }),
        (expression, change, minutes, ms) => {
          const after = change.at + minutes * MINUTE_MS + ms;
          const reference = referenceCron(expression);
          // Walk the clock from 3 hours before: a local minute runs the first time the clock shows it.
          const seen = new Set<number>();
          const horizon = after + 2 * 24 * HOUR_MS;
          let expected: number | undefined;
          for (let t = Math.floor(after / MINUTE_MS) * MINUTE_MS - 3 * HOUR_MS; t <= horizon; t += MINUTE_MS) {
            const local = wallClock(change.timezone, t);
            if (t > after && !seen.has(local) && referenceMatches(reference, local)) {
              expected = t;
              break;
            }
            seen.add(local);
          }
          const actual = nextRunAt(timing(expression, change.timezone), new Date(after));
          if (expected === undefined) {
            expect(actual === null || actual.getTime() > horizon).toBe(true);
            return;
          }
          expect(actual?.toISOString()).toBe(new Date(expected).toISOString());
          reached++;
        },
      ),
      { numRuns: 200 },
    );
    expect(reached).toBeGreaterThanOrEqual(150);
  });

  it("runs a rate at the start date and every interval after it, never twice, never early", () => {
    let reached = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.constantFrom("minute", "hour", "day"),
        instantIn("2025-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        instantIn("2024-06-01T00:00:00Z", "2030-01-01T00:00:00Z"),
        fc.constantFrom("UTC", ...ZONES_WITH_DST),
        (value, unit, setAt, after, timezone) => {
          const expression = parseExpression(`rate(${value} ${unit}${value === 1 ? "" : "s"})`);
          if (expression.kind !== "rate") throw new Error("not a rate");
          const startDate = startDateFor(expression, setAt);
          const next = nextRunAt({ expression, timezone, startDate }, after)!.getTime();
          const sinceStart = next - startDate.getTime();
          expect(next).toBeGreaterThan(after.getTime());
          expect(sinceStart % expression.intervalMs).toBe(0);
          expect(sinceStart === 0 || next - expression.intervalMs <= after.getTime()).toBe(true);
          expect(startDate.getTime() - setAt.getTime()).toBeGreaterThan(expression.intervalMs);
          expect(startDate.getTime() - setAt.getTime()).toBeLessThanOrEqual(expression.intervalMs + MINUTE_MS);
          reached++;
        },
      ),
      { numRuns: 300 },
    );
    expect(reached).toBe(300);
  });
});
