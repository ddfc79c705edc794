import { describe, expect, it } from "vitest";
import { parseSplitSpec } from "../../../lib/http/validate.ts";
import { DEFAULT_SPLIT_OPTIONS } from "../../../lib/model.ts";
import { expectRefusedWith, TASK, thrown } from "./refusals.ts";

// The optional split fields: ratios, stratify_by, group_by, rare_labels, mode, lock_testing, dry_run.

describe("parseSplitSpec", () => {
  const valid = { task_id: TASK, training_count: 7, verifying_count: 2, testing_count: 1 };
  const withRatios = { task_id: TASK, ratios: { training: 0.7, verifying: 0.2, testing: 0.1 } };
  const RATIOS_1017 = "ratios 不能与 training_count、verifying_count、testing_count 同时使用";
  const ratiosRefused = (body: unknown, reason: string) =>
    expectRefusedWith(() => parseSplitSpec(body), 1018, `ratios 无效: ${reason}`);
  const optionRefused = (body: unknown, field: string, rule: string) =>
    expectRefusedWith(() => parseSplitSpec(body), 1019, `分集选项 ${field} 无效: ${rule}`);

  describe("the legacy request", () => {
    it("gives counts, seed and task only, with no options", () => {
      for (const body of [valid, { ...valid, seed: 42 }, { ...valid, training_count: "3" }]) {
        expect(Object.keys(parseSplitSpec(body)).sort()).toEqual(["counts", "seed", "taskId"]);
      }
    });

    it.each([
      ["not an object", null, 1001],
      ["a bad task_id", { ...valid, task_id: "a b" }, 1002],
      ["training 0", { ...valid, training_count: 0 }, 1009],
      ["verifying -1", { ...valid, verifying_count: -1 }, 1005],
      ["testing 1.5", { ...valid, testing_count: 1.5 }, 1006],
      ["an empty seed", { ...valid, seed: "" }, 1016],
      ["training missing (and nothing about ratios)", { task_id: TASK, verifying_count: 1, testing_count: 1 }, 1009],
    ])("refuses %s with the legacy API's code", (_name, body, code) => {
      expect(thrown(() => parseSplitSpec(body)).code).toBe(code);
    });
  });

  describe("ratios", () => {
    it("returns the ratios indexed by set type instead of counts", () => {
      expect(parseSplitSpec({ ...withRatios, seed: "s" })).toEqual({
        taskId: TASK,
        ratios: { 0: 0.7, 1: 0.1, 2: 0.2 },
        seed: "s",
      });
      expect(parseSplitSpec(withRatios).counts).toBeUndefined();
    });

    it.each([
      ["0.7 + 0.2 + 0.1 (1 in decimal, above 1 in binary)", { training: 0.7, verifying: 0.2, testing: 0.1 }],
      ["a sum 1e-10 above 1", { training: 0.5, verifying: 0.5, testing: 1e-10 }],
      ["a sum below 1 (the rest stays unassigned)", { training: 0.5, verifying: 0, testing: 0 }],
      ["training 1", { training: 1, verifying: 0, testing: 0 }],
      ["integers 1 and 0", { training: 1, verifying: 0, testing: 0 }],
    ])("accepts %s", (_name, ratios) => {
      expect(parseSplitSpec({ task_id: TASK, ratios }).ratios).toEqual({
        0: ratios.training,
        1: ratios.testing,
        2: ratios.verifying,
      });
    });

    it("normalises -0 to 0", () => {
      const { ratios } = parseSplitSpec({ task_id: TASK, ratios: { training: 1, verifying: -0, testing: -0 } });
      expect(Object.is(ratios?.[1], 0) && Object.is(ratios?.[2], 0)).toBe(true);
    });

    it.each(["training_count", "verifying_count", "testing_count"])(
      "refuses ratios with %s present (1017), whatever its value",
      (field) => {
        expectRefusedWith(() => parseSplitSpec({ ...withRatios, [field]: 5 }), 1017, RATIOS_1017);
        expectRefusedWith(() => parseSplitSpec({ ...withRatios, [field]: "bad" }), 1017, RATIOS_1017);
        expectRefusedWith(() => parseSplitSpec({ ...withRatios, [field]: null }), 1017, RATIOS_1017);
      },
    );

    it("refuses ratios: null next to counts with 1017 (present is present)", () => {
      expectRefusedWith(() => parseSplitSpec({ ...valid, ratios: null }), 1017, RATIOS_1017);
    });

    it.each([
      ["null", null],
      ["an array", [0.7, 0.2, 0.1]],
      ["a string", "0.7,0.2,0.1"],
      ["a number", 0.7],
    ])("refuses ratios that are %s", (_name, ratios) => {
      ratiosRefused({ task_id: TASK, ratios }, "必须是含 training、verifying、testing 三个比例的对象");
    });

    const TRAINING_RULE = "ratios.training 必须是大于 0、不大于 1 的数";
    it.each([
      ["missing", undefined],
      ["0", 0],
      ["negative", -0.1],
      ["above 1", 1.5],
      ["a numeric string", "0.7"],
      ["NaN", NaN],
      ["Infinity", Infinity],
      ["null", null],
      ["a boolean", true],
    ])("refuses ratios.training %s", (_name, training) => {
      ratiosRefused({ task_id: TASK, ratios: { training, verifying: 0.1, testing: 0.1 } }, TRAINING_RULE);
    });

    it.each([
      ["verifying", "missing", undefined],
      ["verifying", "negative", -0.01],
      ["testing", "above 1", 1.01],
      ["testing", "a string", "0.1"],
      ["testing", "-Infinity", -Infinity],
    ])("refuses ratios.%s that is %s", (key, _name, value) => {
      ratiosRefused(
        { task_id: TASK, ratios: { training: 0.5, verifying: 0.1, testing: 0.1, [key]: value } },
        `ratios.${key} 必须是 0 到 1 之间的数`,
      );
    });

    it("refuses a sum above 1 beyond the tolerance", () => {
      ratiosRefused(
        { task_id: TASK, ratios: { training: 0.5, verifying: 0.5, testing: 1e-8 } },
        "三个比例之和不能大于 1",
      );
      ratiosRefused(
        { task_id: TASK, ratios: { training: 0.8, verifying: 0.2, testing: 0.1 } },
        "三个比例之和不能大于 1",
      );
    });

    it("checks the keys in order training, verifying, testing, then the sum", () => {
      ratiosRefused({ task_id: TASK, ratios: { training: 2, verifying: -1, testing: 9 } }, TRAINING_RULE);
      ratiosRefused(
        { task_id: TASK, ratios: { training: 1, verifying: -1, testing: 9 } },
        "ratios.verifying 必须是 0 到 1 之间的数",
      );
      ratiosRefused(
        { task_id: TASK, ratios: { training: 1, verifying: 1, testing: 9 } },
        "ratios.testing 必须是 0 到 1 之间的数",
      );
    });

    it("refuses an unknown ratio key (1023, before task_id) and never reads inherited ones", () => {
      const ratios = Object.assign(Object.create({ verifying: 0.2 }) as object, { training: 0.7, testing: 0.1 });
      ratiosRefused({ task_id: TASK, ratios }, "ratios.verifying 必须是 0 到 1 之间的数");
      const stray = { training: 0.7, verfying: 0.2, testing: 0.1 };
      const refused = thrown(() => parseSplitSpec({ task_id: null, ratios: stray }));
      expect([refused.code, refused.message]).toEqual([1023, "未知字段: ratios.verfying"]);
      expect(refused.detail).toContain("did you mean ratios.verifying?");
      // Lenient: the stray key neither refuses nor leaks into the ratios (0 training, 1 testing, 2 verifying).
      const lenient = parseSplitSpec({ task_id: TASK, ratios: { ...stray, verifying: 0.2 } }, { strict: false });
      expect(lenient.ratios).toEqual({ 0: 0.7, 1: 0.1, 2: 0.2 });
    });

    it("reports task_id before ratios, and ratios before seed", () => {
      expect(thrown(() => parseSplitSpec({ task_id: null, ratios: 5, training_count: 1 })).code).toBe(1002);
      expect(thrown(() => parseSplitSpec({ task_id: TASK, ratios: 5, seed: "" })).code).toBe(1018);
      expect(thrown(() => parseSplitSpec({ task_id: TASK, ratios: 5, training_count: 0, seed: "" })).code).toBe(1017);
    });
  });

  describe("options", () => {
    const defaults = {
      stratifyBy: undefined,
      groupBy: undefined,
      rareLabels: "training",
      mode: "fresh",
      lockTesting: false,
      dryRun: false,
      algorithm: "v1",
    };

    it("fills the defaults as soon as one option is present", () => {
      expect(parseSplitSpec({ ...valid, dry_run: true }).options).toEqual({ ...defaults, dryRun: true });
      expect(parseSplitSpec({ ...valid, dry_run: false }).options).toEqual(defaults);
      expect(parseSplitSpec({ ...withRatios, mode: "fresh" }).options).toEqual(defaults);
    });

    it("reads every option", () => {
      const body = {
        ...valid,
        stratify_by: "label",
        group_by: "group",
        rare_labels: "random",
        mode: "keep",
        dry_run: true,
      };
      expect(parseSplitSpec(body)).toEqual({
        taskId: TASK,
        counts: { 0: 7, 1: 1, 2: 2 },
        seed: undefined,
        options: {
          stratifyBy: "label",
          groupBy: "group",
          rareLabels: "random",
          mode: "keep",
          lockTesting: false,
          dryRun: true,
          algorithm: "v1",
        },
      });
      expect(parseSplitSpec({ ...withRatios, lock_testing: true, rare_labels: "error" }).options).toEqual({
        ...defaults,
        rareLabels: "error",
        lockTesting: true,
      });
    });

    it.each([
      ["stratify_by", ["group", "Label", "", null, true, ["label"]], '只能是 "label"'],
      ["group_by", ["label", "GROUP", null, 1], '只能是 "group"'],
      ["rare_labels", ["drop", "Training", null, false], '只能是 "training"、"random"、"error"'],
      ["mode", ["incremental", "KEEP", null, 0], '只能是 "fresh"、"keep"'],
      ["lock_testing", ["true", 1, null, "yes"], "必须是 true 或 false"],
      ["dry_run", ["false", 0, null, {}], "必须是 true 或 false"],
      ["algorithm", ["v2", "V1", "", null, 1], '只能是 "v1"'],
    ] as const)("refuses bad values of %s with 1019 naming it", (field, values, rule) => {
      for (const value of values) optionRefused({ ...valid, [field]: value }, field, rule);
    });

    it("accepts algorithm v1, the default, as an option of its own", () => {
      expect(parseSplitSpec({ ...valid, algorithm: "v1" }).options).toEqual({
        ...DEFAULT_SPLIT_OPTIONS,
        algorithm: "v1",
      });
      expect(parseSplitSpec({ ...valid, dry_run: true }).options?.algorithm).toBe("v1");
    });

    it("refuses lock_testing with mode keep", () => {
      optionRefused({ ...valid, mode: "keep", lock_testing: true }, "lock_testing", '不能与 mode "keep" 同时使用');
      expect(parseSplitSpec({ ...valid, mode: "keep", lock_testing: false }).options?.mode).toBe("keep");
    });

    it("reports the first failing rule: seed before options, then the options in order", () => {
      expect(thrown(() => parseSplitSpec({ ...valid, testing_count: -1, stratify_by: "x" })).code).toBe(1006);
      expect(thrown(() => parseSplitSpec({ ...valid, seed: "", stratify_by: "x" })).code).toBe(1016);
      const all = {
        ...valid,
        stratify_by: "x",
        group_by: "x",
        rare_labels: "x",
        mode: "x",
        lock_testing: "x",
        dry_run: "x",
        algorithm: "x",
      };
      const order = ["stratify_by", "group_by", "rare_labels", "mode", "lock_testing", "dry_run", "algorithm"];
      const body: Record<string, unknown> = { ...all };
      for (const field of order) {
        expect(thrown(() => parseSplitSpec(body)).message).toContain(`分集选项 ${field} 无效`);
        delete body[field];
      }
      expect(parseSplitSpec(body).options).toBeUndefined();
    });

    it("reads own properties only", () => {
      const body = Object.assign(
        Object.create({ dry_run: true, ratios: { training: 1, verifying: 0, testing: 0 } }) as object,
        valid,
      );
      expect(parseSplitSpec(body)).toEqual(parseSplitSpec(valid));
      const proto = JSON.parse(`{"__proto__": {"mode": "keep"}, ${JSON.stringify(valid).slice(1)}`);
      expect(parseSplitSpec(proto, { strict: false }).options).toBeUndefined();
    });
  });
});
