import { describe, expect, it } from "vitest";
import { parseSplitSpec } from "../../../lib/http/validate.ts";
import { expectRefused, expectRefusedWith, MAX_SAFE, TASK, thrown, UNSAFE } from "./refusals.ts";

describe("parseSplitSpec: the legacy request", () => {
  const valid = { task_id: TASK, training_count: 7, verifying_count: 2, testing_count: 1 };

  it("returns counts indexed by set type (0 training, 1 testing, 2 verifying) and no seed", () => {
    expect(parseSplitSpec(valid)).toEqual({ taskId: TASK, counts: { 0: 7, 1: 1, 2: 2 }, seed: undefined });
  });

  it("accepts integer strings, a numeric task_id and the minimum counts", () => {
    const body = { task_id: MAX_SAFE, training_count: "1", verifying_count: "0", testing_count: "007" };
    expect(parseSplitSpec(body)).toEqual({
      taskId: String(MAX_SAFE),
      counts: { 0: 1, 1: 7, 2: 0 },
      seed: undefined,
    });
  });

  it("normalises -0 (number or string) to 0", () => {
    const { counts } = parseSplitSpec({ ...valid, verifying_count: -0, testing_count: "-0" });
    expect(Object.is(counts?.[2], 0) && Object.is(counts?.[1], 0)).toBe(true);
  });

  it("refuses an unknown field (1023) before any other rule, naming the nearest known one", () => {
    const refused = thrown(() => parseSplitSpec({ task_id: null, training_count: 0, dryRun: true }));
    expect([refused.code, refused.status, refused.message]).toEqual([1023, 400, "未知字段: dryRun"]);
    expect(refused.detail).toContain("did you mean dry_run?");
    expect(thrown(() => parseSplitSpec({ ...valid, trainng_count: 7 })).detail).toContain(
      "did you mean training_count?",
    );
    expect(thrown(() => parseSplitSpec({ ...valid, set_type_id: 9 })).message).toBe("未知字段: set_type_id");
    expect(thrown(() => parseSplitSpec({ ...valid, zzz: 1 })).detail).not.toContain("did you mean");
  });

  it("with STRICT_FIELDS off, reports unknown fields and goes on", () => {
    const seen: string[][] = [];
    const spec = parseSplitSpec({ ...valid, extra: { deep: true } }, { strict: false, onUnknown: (f) => seen.push(f) });
    expect(spec.taskId).toBe(TASK);
    expect(seen).toEqual([["extra"]]);
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["an array", [valid]],
    ["a JSON string", JSON.stringify(valid)],
    ["a number", 42],
    ["a boolean", true],
  ])("refuses %s as the body with 1001", (_name, body) => {
    expectRefused(() => parseSplitSpec(body), 1001);
  });

  it.each([
    ["missing", undefined],
    ["null", null],
    ["2**53", UNSAFE],
    ["1e20", 1e20],
    ["7.5", 7.5],
    ["a malformed string", "12/3"],
    ["a boolean", true],
  ])("refuses a task_id that is %s with 1002", (_name, taskId) => {
    expectRefused(() => parseSplitSpec({ ...valid, task_id: taskId }), 1002);
  });

  // Values every count refuses, whatever its minimum.
  const notIntegers: [string, unknown][] = [
    ["7.5", 7.5],
    ["'7.0'", "7.0"],
    ["' 7'", " 7"],
    ["'7 '", "7 "],
    ["'+7'", "+7"],
    ["'1e3'", "1e3"],
    ["'abc'", "abc"],
    ["''", ""],
    ["true", true],
    ["null", null],
    ["missing", undefined],
    ["an object", { n: 7 }],
    ["an array", [7]],
    ["2**53", UNSAFE],
    ["'9007199254740992'", "9007199254740992"],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-1", -1],
    ["'-1'", "-1"],
  ];
  const fields = [
    ["training_count", 1009],
    ["verifying_count", 1005],
    ["testing_count", 1006],
  ] as const;

  describe.each(fields)("%s", (field, code) => {
    it.each(notIntegers)(`refuses %s with ${code}`, (_name, value) => {
      expectRefused(() => parseSplitSpec({ ...valid, [field]: value }), code);
    });

    it("accepts the largest safe integer, as a number and as a string", () => {
      expect(() => parseSplitSpec({ ...valid, [field]: MAX_SAFE })).not.toThrow();
      expect(() => parseSplitSpec({ ...valid, [field]: String(MAX_SAFE) })).not.toThrow();
    });
  });

  it.each([0, "0"])("refuses training_count %j with 1009 (it must be at least 1)", (value) => {
    expectRefused(() => parseSplitSpec({ ...valid, training_count: value }), 1009);
  });

  it.each([
    ["verifying_count", 0, 2],
    ["testing_count", 0, 1],
  ] as const)("accepts %s 0", (field, value, setType) => {
    expect(parseSplitSpec({ ...valid, [field]: value }).counts?.[setType]).toBe(0);
  });

  it.each([
    ["task_id before the counts", { task_id: null, training_count: 0, verifying_count: -1, testing_count: -1 }, 1002],
    ["training before verifying", { task_id: TASK, training_count: 0, verifying_count: -1, testing_count: -1 }, 1009],
    ["verifying before testing", { task_id: TASK, training_count: 1, verifying_count: "x", testing_count: -1 }, 1005],
    [
      "testing before seed",
      { task_id: TASK, training_count: 1, verifying_count: 0, testing_count: 1.5, seed: "" },
      1006,
    ],
  ] as const)("reports the first failing rule: %s", (_name, body, code) => {
    expectRefused(() => parseSplitSpec(body), code);
  });

  describe("seed", () => {
    it.each([
      ["absent", undefined, undefined],
      ["a string", "abc", "abc"],
      ["a single space (any characters)", " ", " "],
      ["128 characters", "s".repeat(128), "s".repeat(128)],
      ["128 CJK characters", "拓".repeat(128), "拓".repeat(128)],
      ["128 astral code points (256 UTF-16 units)", "😀".repeat(128), "😀".repeat(128)],
      ["an integer", 42, "42"],
      ["zero", 0, "0"],
      ["a negative integer", -7, "-7"],
      ["the largest safe integer", MAX_SAFE, "9007199254740991"],
    ])("accepts %s", (_name, seed, expected) => {
      expect(parseSplitSpec({ ...valid, seed }).seed).toBe(expected);
    });

    it.each([
      ["an empty string", ""],
      ["129 characters", "s".repeat(129)],
      ["129 astral code points", "😀".repeat(129)],
      ["null", null],
      ["7.5", 7.5],
      ["2**53", UNSAFE],
      ["a boolean", false],
      ["an object", {}],
      ["an array", ["a"]],
    ])("refuses %s with 1016", (_name, seed) => {
      expectRefused(() => parseSplitSpec({ ...valid, seed }), 1016);
    });
  });

  describe("own properties only", () => {
    it("treats an Object.create(null) body like a plain object", () => {
      const body = Object.assign(Object.create(null) as object, valid);
      expect(parseSplitSpec(body).counts).toEqual({ 0: 7, 1: 1, 2: 2 });
    });

    it("refuses a __proto__ key as an unknown field: its fields are never the body's", () => {
      const body = JSON.parse(`{"__proto__": ${JSON.stringify(valid)}}`);
      expectRefusedWith(() => parseSplitSpec(body), 1023, "未知字段: __proto__");
      const lenient = { strict: false };
      expectRefused(() => parseSplitSpec(body, lenient), 1002);
      const beside = JSON.parse(`{"__proto__": {"training_count": 0}, ${JSON.stringify(valid).slice(1)}`);
      expect(parseSplitSpec(beside, lenient).counts?.[0]).toBe(7);
    });

    it("does not read inherited fields", () => {
      const { training_count: _inherited, ...rest } = valid;
      const body = Object.assign(Object.create({ training_count: 7 }) as object, rest);
      expectRefused(() => parseSplitSpec(body), 1009);
    });
  });
});
