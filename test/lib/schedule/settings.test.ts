import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_TIMEZONE,
  InvalidScheduleSetting,
  MAX_WINDOW_MINUTES,
  parseExpression,
  parseTimezone,
  parseWindowMinutes,
} from "../../../lib/schedule/index.ts";
import { endOfGap, instantsAt } from "../../../lib/schedule/timezone.ts";

function refusalOf(parse: () => unknown): InvalidScheduleSetting {
  try {
    parse();
  } catch (error) {
    if (error instanceof InvalidScheduleSetting) return error;
    throw error;
  }
  throw new Error("accepted");
}

const wall = (text: string) => Date.parse(`${text}Z`);
const iso = (instants: number[]) => instants.map((at) => new Date(at).toISOString());

describe("parseTimezone", () => {
  it("is UTC when absent", () => {
    expect(parseTimezone(undefined)).toBe(DEFAULT_TIMEZONE);
    expect(DEFAULT_TIMEZONE).toBe("UTC");
  });

  it.each([
    "UTC",
    "Etc/UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Asia/Calcutta",
    "US/Eastern",
    "Etc/GMT+5",
    "America/Argentina/Buenos_Aires",
    "America/Port-au-Prince",
    "Australia/Lord_Howe",
  ])("accepts %s as given", (name) => {
    expect(parseTimezone(name)).toBe(name);
  });

  it.each([
    ["", "must be an IANA time zone name"],
    ["utc", "must be an IANA time zone name"],
    ["america/new_york", "must be an IANA time zone name"],
    ["AMERICA/NEW_YORK", "must be spelt America/New_York"],
    ["America/New_york", "must be spelt America/New_York"],
    ["Mars/Olympus_Mons", "is not a time zone this service knows"],
    ["UTC+8", "is not a time zone this service knows"],
    ["+01:00", "must be an IANA time zone name"],
    ["-0500", "must be an IANA time zone name"],
    ["Europe/Berlin ", "must be an IANA time zone name"],
    ["Europe//Berlin", "must be an IANA time zone name"],
    [null, "must be an IANA time zone name"],
    [8, "must be an IANA time zone name"],
    [["UTC"], "must be an IANA time zone name"],
  ])("refuses %j: %s", (value, why) => {
    const refusal = refusalOf(() => parseTimezone(value));
    expect(refusal.code).toBe(1028);
    expect(refusal.which).toBe("timezone");
    expect(refusal.detail).toContain(why);
    expect(refusal.detail).toContain(`got ${JSON.stringify(value)}`);
  });

  it("answers any input with a name or a refusal naming the timezone (fast-check)", () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.constantFrom(...Intl.supportedValuesOf("timeZone")), fc.anything()),
        (value) => {
          fc.pre(value !== undefined);
          let parsed: unknown;
          try {
            parsed = parseTimezone(value);
          } catch (error) {
            expect((error as InvalidScheduleSetting).which).toBe("timezone");
            return;
          }
          expect(parsed).toBe(value);
          accepted++;
        },
      ),
      { numRuns: 500 },
    );
    expect(accepted).toBeGreaterThan(50);
  });
});

describe("local times across daylight saving: gaps and repeats", () => {
  it.each([
    // [zone, local time, instants it names]
    ["America/New_York", "2026-03-08T01:59:00", ["2026-03-08T06:59:00.000Z"]],
    ["America/New_York", "2026-03-08T02:00:00", []],
    ["America/New_York", "2026-03-08T02:30:00", []],
    ["America/New_York", "2026-03-08T03:00:00", ["2026-03-08T07:00:00.000Z"]],
    ["America/New_York", "2026-11-01T00:59:00", ["2026-11-01T04:59:00.000Z"]],
    ["America/New_York", "2026-11-01T01:30:00", ["2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z"]],
    ["America/New_York", "2026-11-01T02:00:00", ["2026-11-01T07:00:00.000Z"]],
    ["Europe/Berlin", "2026-03-29T02:30:00", []],
    ["Europe/Berlin", "2026-10-25T02:30:00", ["2026-10-25T00:30:00.000Z", "2026-10-25T01:30:00.000Z"]],
    // Lord Howe Island moves its clock by half an hour: 02:00 → 02:30 in October, 02:00 → 01:30 in April.
    ["Australia/Lord_Howe", "2026-10-04T02:15:00", []],
    ["Australia/Lord_Howe", "2026-04-05T01:45:00", ["2026-04-04T14:45:00.000Z", "2026-04-04T15:15:00.000Z"]],
    ["UTC", "2026-03-08T02:30:00", ["2026-03-08T02:30:00.000Z"]],
  ])("%s %s", (timezone, local, instants) => {
    expect(iso(instantsAt(wall(local), timezone))).toEqual(instants);
  });

  it.each([
    ["America/New_York", "2026-03-08T02:00:00", "2026-03-08T03:00:00"],
    ["America/New_York", "2026-03-08T02:59:00", "2026-03-08T03:00:00"],
    ["Europe/Berlin", "2026-03-29T02:30:00", "2026-03-29T03:00:00"],
    ["Australia/Lord_Howe", "2026-10-04T02:15:00", "2026-10-04T02:30:00"],
  ])("in %s the gap holding %s ends at %s", (timezone, local, end) => {
    expect(endOfGap(wall(local), timezone)).toBe(wall(end));
  });

  it("takes a cron time that falls in a gap as a valid expression: that day's run is skipped, not refused", () => {
    expect(parseExpression("cron(30 2 8 3 ? 2026)").kind).toBe("cron");
  });
});

describe("parseWindowMinutes", () => {
  it("is 0 when absent, and takes any integer 0–60", () => {
    expect(parseWindowMinutes(undefined)).toBe(0);
    expect(MAX_WINDOW_MINUTES).toBe(60);
    for (const minutes of [0, 1, 15, 59, 60]) expect(parseWindowMinutes(minutes)).toBe(minutes);
    expect(Object.is(parseWindowMinutes(-0), 0)).toBe(true);
  });

  it.each([-1, 61, 1.5, "5", null, Number.NaN, Number.POSITIVE_INFINITY, true, [5], { minutes: 5 }])(
    "refuses %j",
    (value) => {
      const refusal = refusalOf(() => parseWindowMinutes(value));
      expect(refusal.code).toBe(1028);
      expect(refusal.which).toBe("window_minutes");
      expect(refusal.detail).toMatch(/^window_minutes must be an integer 0–60, got /);
    },
  );
});
