import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidScheduleSetting, parseExpression } from "../../../lib/schedule/index.ts";
import { validCron } from "./arbitraries.ts";

/** The refusal `parseExpression` throws for `value`, or a failure when it accepts it. */
function refusalOf(value: unknown): InvalidScheduleSetting {
  try {
    parseExpression(value);
  } catch (error) {
    if (error instanceof InvalidScheduleSetting) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe("parseExpression: rate(value unit)", () => {
  it.each([
    ["rate(1 minute)", "minute", 1, 60_000],
    ["rate(5 minutes)", "minute", 5, 300_000],
    ["rate(1 hour)", "hour", 1, 3_600_000],
    ["rate(12 hours)", "hour", 12, 43_200_000],
    ["rate(1 day)", "day", 1, 86_400_000],
    ["rate(7 days)", "day", 7, 604_800_000],
    ["rate(1000000 days)", "day", 1_000_000, 86_400_000_000_000],
  ])("%s is every %s × %i (%i ms)", (text, unit, value, intervalMs) => {
    expect(parseExpression(text)).toEqual({ kind: "rate", text, unit, value, intervalMs });
  });

  it.each([
    ["rate(1 minutes)", "singular exactly when the value is 1"],
    ["rate(2 minute)", "singular exactly when the value is 1"],
    ["rate(1 days)", "singular exactly when the value is 1"],
    ["rate(0 minutes)", "whole number 1–1000000"],
    ["rate(05 minutes)", "without leading zeros"],
    ["rate(1000001 days)", "whole number 1–1000000"],
    ["rate(1.5 hours)", "a whole number, one space"],
    ["rate(-1 hours)", "a whole number, one space"],
    ["rate(5 seconds)", "minute(s), hour(s) or day(s)"],
    ["rate(1 week)", "minute(s), hour(s) or day(s)"],
    ["rate(5  minutes)", "one space"],
    ["rate(5 Minutes)", "minute(s), hour(s) or day(s)"],
    ["rate(5minutes)", "one space"],
    ["rate (5 minutes)", "must be rate(value unit) or cron("],
    [" rate(5 minutes)", "must be rate(value unit) or cron("],
    ["rate(5 minutes) ", "a whole number, one space"],
  ])("refuses %j: %s", (text, why) => {
    const refusal = refusalOf(text);
    expect(refusal.code).toBe(1028);
    expect(refusal.which).toBe("expression");
    expect(refusal.detail).toContain(why);
    expect(refusal.detail).toContain(JSON.stringify(text));
  });
});

describe("parseExpression: cron(minutes hours day-of-month month day-of-week year)", () => {
  it.each([
    "cron(0 2 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(*/5 * * * ? *)",
    "cron(1-59/10 * * * ? *)",
    "cron(0-15/1 8-8 ? * 2,3,4,5,6,7 *)",
    "cron(30-30 13-13 ? * 2,4,6 *)",
    "cron(1-31/30 1-1 ? * 1,7 *)",
    "cron(0 12 L * ? *)",
    "cron(0 12 15W * ? *)",
    "cron(0 12 1W * ? *)",
    "cron(0 12 ? * L *)",
    "cron(15 10 ? * 6L *)",
    "cron(15 10 ? * FRIL *)",
    "cron(0 9 ? * 3#2 *)",
    "cron(0 9 ? * MON#1 *)",
    "cron(0 9 ? * 1#5 *)",
    "cron(0 0 1 JAN-MAR,OCT ? *)",
    "cron(0 0 ? jan mon 2030)",
    "cron(0 0 1 1 ? 1970-2199)",
    "cron(0 0 1 1 ? 2026/2)",
    "cron(0 0 1 1 ? */5)",
    "cron(0 0 29 2 ? 2199)",
    "cron(59 23 31 12 ? 2199)",
    "cron(* * * * ? *)",
    "cron(0 0 ? * * *)",
    "cron(05 07 * * ? *)",
  ])("accepts %s", (text) => {
    const parsed = parseExpression(text);
    expect(parsed.kind).toBe("cron");
    expect(parsed.text).toBe(text);
  });

  it.each([
    ["cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week must be ?"],
    ["cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"],
    ["cron(0 12 1 * MON *)", "exactly one of day-of-month and day-of-week must be ?"],
    ["cron(0 12 * * ?)", "6 fields"],
    ["cron(0 0 12 * * ? *)", "6 fields"],
    ["cron(0  12 * * ? *)", "single spaces"],
    ["cron()", "6 fields"],
    ["cron(60 12 * * ? *)", "minutes field"],
    ["cron(0 24 * * ? *)", "hours field"],
    ["cron(0 12 0 * ? *)", "day-of-month field"],
    ["cron(0 12 32 * ? *)", "day-of-month field"],
    ["cron(0 12 1 13 ? *)", "month field"],
    ["cron(0 12 1 0 ? *)", "month field"],
    ["cron(0 12 ? * 0 *)", "day-of-week field"],
    ["cron(0 12 ? * 8 *)", "day-of-week field"],
    ["cron(0 12 1 * ? 1969)", "year field"],
    ["cron(0 12 1 * ? 2200)", "year field"],
    ["cron(? 12 1 * ? *)", "? is only for day-of-month or day-of-week"],
    ["cron(0 12 1 * ? ?)", "? is only for day-of-month or day-of-week"],
    ["cron(*/60 * * * ? *)", "increment"],
    ["cron(0/0 * * * ? *)", "increment"],
    ["cron(0 */24 * * ? *)", "increment"],
    ["cron(0 12 ? * 1/2 *)", "/ is not allowed"],
    ["cron(5-2 12 * * ? *)", "runs backwards"],
    ["cron(0 12 ? * FRI-MON *)", "runs backwards"],
    ["cron(0 12 1-2-3 * ? *)", "not a range"],
    ["cron(0/5/5 12 * * ? *)", "more than one /"],
    ["cron(*,5 12 * * ? *)", "* stands alone"],
    ["cron(0,,5 12 * * ? *)", "is not a number"],
    ["cron(0 12 L-3 * ? *)", "L stands alone"],
    ["cron(0 12 LW * ? *)", "L stands alone"],
    ["cron(0 12 1,L * ? *)", "L stands alone"],
    ["cron(0 12 32W * ? *)", "day-of-month field"],
    ["cron(0 12 W * ? *)", "L stands alone and W only follows one day"],
    ["cron(0 12 L * ? *x)", "year field"],
    ["cron(0 12 ? * 3#1,6#3 *)", "alone in the field"],
    ["cron(0 12 ? * 3#6 *)", "instance after # must be 1–5"],
    ["cron(0 12 ? * 3#0 *)", "instance after # must be 1–5"],
    ["cron(0 12 ? * 3#L *)", "instance after # must be 1–5"],
    ["cron(0 12 ? * 8L *)", "day-of-week field"],
    ["cron(0 12 ? * 1,6L *)", "L stands alone or follows one day"],
    ["cron(0 12 ? * +MON *)", "is not a number"],
    ["cron(0 12 ? MONDAY * *)", "is not a number"],
    ["cron(0 12 ? JANUARY MON *)", "is not a number"],
    ["cron(0 noon * * ? *)", "is not a number"],
    ["cron(0 12 * * ? *", "must be rate(value unit) or cron("],
    ["CRON(0 12 * * ? *)", "must be rate(value unit) or cron("],
    ["0 12 * * ? *", "must be rate(value unit) or cron("],
    ["@daily", "must be rate(value unit) or cron("],
    ["at(2030-01-01T00:00:00)", "must recur"],
    ["", "must be rate(value unit) or cron("],
  ])("refuses %j: %s", (text, why) => {
    const refusal = refusalOf(text);
    expect(refusal.which).toBe("expression");
    expect(refusal.detail).toContain(why);
  });

  it("refuses what is not a string, and an expression over 256 characters", () => {
    for (const value of [undefined, null, 5, ["rate(1 day)"], { rate: 1 }]) {
      expect(refusalOf(value).detail).toMatch(/^expression must be rate\(value unit\) or cron\(/);
    }
    const long = `cron(0 12 ? * ${Array.from({ length: 130 }, () => "1").join(",")} *)`;
    expect(long.length).toBeGreaterThan(256);
    expect(refusalOf(long).detail).toContain("at most 256 characters");
  });
});

describe("parseExpression (fast-check)", () => {
  it("accepts every expression of the documented grammar", () => {
    let reached = 0;
    fc.assert(
      fc.property(validCron, (text) => {
        expect(parseExpression(text).kind).toBe("cron");
        reached++;
      }),
      { numRuns: 500 },
    );
    expect(reached).toBe(500);
  });

  it("answers anything else with a refusal naming the expression, never another error", () => {
    let refused = 0;
    const nearMisses = validCron.chain((text) =>
      fc
        .tuple(fc.nat(text.length), fc.constantFrom("", " ", "?", "L", "W", "#", "/", "-", ",", "*", "0", "99", "x"))
        .map(([at, insert]) => text.slice(0, at) + insert + text.slice(at + 1)),
    );
    fc.assert(
      fc.property(fc.oneof(nearMisses, fc.string(), fc.anything()), (value) => {
        try {
          parseExpression(value);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidScheduleSetting);
          expect((error as InvalidScheduleSetting).which).toBe("expression");
          refused++;
        }
      }),
      { numRuns: 1000 },
    );
    expect(refused).toBeGreaterThan(500);
  });
});
