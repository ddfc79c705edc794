import { describe, expect, it } from "vitest";
import { parseTaskId } from "../../../lib/http/values.ts";
import { expectRefused, MAX_SAFE, TASK, UNSAFE } from "./refusals.ts";

describe("parseTaskId", () => {
  it.each([
    ["a 19-digit string", TASK, TASK],
    ["a one-character string", "a", "a"],
    ["the whole charset", "AZaz09_-", "AZaz09_-"],
    ["64 characters", "x".repeat(64), "x".repeat(64)],
    ["a safe integer", 123, "123"],
    ["zero", 0, "0"],
    ["the largest safe integer", MAX_SAFE, "9007199254740991"],
    ["a negative safe integer (its digits and '-' are in the charset)", -5, "-5"],
  ])("accepts %s", (_name, value, expected) => {
    expect(parseTaskId(value)).toBe(expected);
  });

  it.each([
    ["an empty string", ""],
    ["65 characters", "x".repeat(65)],
    ["a space", "12 3"],
    ["a leading space", " 123"],
    ["a dot", "a.b"],
    ["non-ASCII", "任务1"],
    ["quotes (stripped only in GET)", '"123"'],
    ["2**53", UNSAFE],
    ["1e20", 1e20],
    ["a fraction", 7.5],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["null", null],
    ["undefined", undefined],
    ["true", true],
    ["false", false],
    ["an object", { id: "1" }],
    ["an array", ["1"]],
  ])("refuses %s with 1002", (_name, value) => {
    expectRefused(() => parseTaskId(value), 1002);
  });
});
