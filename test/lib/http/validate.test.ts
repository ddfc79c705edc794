import { describe, expect, it } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { encodeCursor } from "../../../lib/http/cursor.ts";
import type { FieldPolicy } from "../../../lib/http/fields.ts";
import { parseSetPageQuery } from "../../../lib/http/queries.ts";
import { parseRegisterRequest, parseSplitSpec } from "../../../lib/http/validate.ts";
import { parseTaskId } from "../../../lib/http/values.ts";
import { DEFAULT_SPLIT_OPTIONS, type SetCursor } from "../../../lib/model.ts";

const MSG = {
  1001: "请求体必须是 JSON 对象",
  1002: "task_id 缺失或格式错误",
  1004: "set_type_id 必须是 0（训练）、1（测试）或 2（验证）",
  1005: "验证集中图像的个数不能小于0",
  1006: "测试集中图像的个数不能小于0",
  1009: "训练集中图像的个数不能小于等于0",
  1012: "分页参数错误",
  1016: "seed 必须是 1–128 个字符的字符串或安全整数",
} as const;
type Code = keyof typeof MSG;

function thrown(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  }
  throw new Error("expected a ServiceError, nothing was thrown");
}

/** Asserts a 400 with the code and its exact message. */
function expectRefused(fn: () => unknown, code: Code | 1011, message: string = MSG[code as Code]) {
  const error = thrown(fn);
  expect({ code: error.code, status: error.status, message: error.message }).toEqual({ code, status: 400, message });
}

const expectImagesRefused = (body: unknown, field: string, policy?: FieldPolicy) =>
  expectRefused(() => parseRegisterRequest(body, policy), 1011, `图像数据格式错误: ${field}`);

const TASK = "2018062212345678911";
const UNSAFE = 2 ** 53;
const MAX_SAFE = 2 ** 53 - 1;

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

describe("parseSetPageQuery", () => {
  const cursorFor = (over: Partial<SetCursor> = {}): SetCursor => ({
    taskId: TASK,
    setType: 1,
    version: 3,
    token: "9f8e7d6c5b4a",
    n: 20_000,
    size: 10_000,
    position: 5000,
    after: 7042,
    ...over,
  });
  const query = { task_id: TASK, set_type_id: "1" };

  it("defaults limit to 5000 and cursor to none", () => {
    expect(parseSetPageQuery(query)).toEqual({ taskId: TASK, setType: 1, limit: 5000, cursor: undefined });
  });

  it.each([
    ["the legacy API's quoted task_id", '"2018070477207204860"', "2018070477207204860"],
    ["a bare task_id", "2018070477207204860", "2018070477207204860"],
    ["a task_id of letters", '"abc_-"', "abc_-"],
  ])("accepts %s", (_name, taskId, expected) => {
    expect(parseSetPageQuery({ ...query, task_id: taskId }).taskId).toBe(expected);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["an empty quoted string", '""'],
    ["doubly quoted (only one pair is stripped)", '""123""'],
    ["opened but not closed", '"123'],
    ["closed but not opened", '123"'],
    ["single-quoted", "'123'"],
    ["a lone quote", '"'],
    ["65 characters", "x".repeat(65)],
    ["malformed", "12 3"],
  ])("refuses a task_id that is %s with 1002", (_name, taskId) => {
    expectRefused(() => parseSetPageQuery({ ...query, task_id: taskId }), 1002);
  });

  it.each([null, undefined, {}])("refuses a query of %j with 1002", (q) => {
    expectRefused(() => parseSetPageQuery(q), 1002);
  });

  it.each([
    ["0", 0],
    ["1", 1],
    ["2", 2],
    ['"2"', 2],
  ] as const)("accepts set_type_id %s", (value, expected) => {
    expect(parseSetPageQuery({ ...query, set_type_id: value }).setType).toBe(expected);
  });

  it.each([undefined, "", "3", "-1", "01", " 1", "1 ", "1.0", "a", '"3"', '""'])(
    "refuses set_type_id %j with 1004",
    (value) => {
      expectRefused(() => parseSetPageQuery({ ...query, set_type_id: value }), 1004);
    },
  );

  it.each([
    ["1", 1],
    ["10000", 10000],
    ["0010", 10],
  ])("accepts limit %s", (value, expected) => {
    expect(parseSetPageQuery({ ...query, limit: value }).limit).toBe(expected);
  });

  it.each(["0", "10001", "abc", "", "-1", "1.5", " 5", "5 ", "1e3", '"5"', "99999999999999999999"])(
    "refuses limit %j with 1012",
    (value) => {
      expectRefused(() => parseSetPageQuery({ ...query, limit: value }), 1012);
    },
  );

  it("returns the decoded cursor of this task and set", () => {
    const cursor = cursorFor();
    expect(parseSetPageQuery({ ...query, cursor: encodeCursor(cursor) }).cursor).toEqual(cursor);
  });

  it("accepts a cursor together with a quoted task_id", () => {
    const q = { task_id: `"${TASK}"`, set_type_id: '"1"', cursor: encodeCursor(cursorFor()) };
    expect(parseSetPageQuery(q).cursor).toEqual(cursorFor());
  });

  const forged = (fields: unknown) => Buffer.from(JSON.stringify(fields)).toString("base64url");
  it.each([
    ["empty", ""],
    ["not base64url", "abc+/="],
    ["random base64url", "abcdef"],
    ["truncated", encodeCursor(cursorFor()).slice(0, -6)],
    ["forged with a bad version", forged([TASK, 1, 0, "ab12", 20000, 10000, 5000, 42])],
    ["forged with a bad token", forged([TASK, 1, 3, "not-hex", 20000, 10000, 5000, 42])],
    ["forged with a bad position", forged([TASK, 1, 3, "ab12", 20000, 10000, 0, 42])],
    ["forged past the set's end", forged([TASK, 1, 3, "ab12", 20000, 10000, 10000, 42])],
    ["forged past the snapshot's end", forged([TASK, 1, 3, "ab12", 20000, 10000, 5000, 20000])],
    ["forged as an object", forged({ taskId: TASK })],
    ["of another task", encodeCursor(cursorFor({ taskId: "2018062212345678912" }))],
    ["of another set", encodeCursor(cursorFor({ setType: 2 }))],
    ["too long", "A".repeat(513)],
  ])("refuses a cursor that is %s with 1012", (_name, cursor) => {
    expectRefused(() => parseSetPageQuery({ ...query, cursor }), 1012);
  });

  it.each([
    ["task_id before set_type_id", { task_id: '"', set_type_id: "9", limit: "0" }, 1002],
    ["set_type_id before limit", { task_id: TASK, set_type_id: "9", limit: "0" }, 1004],
    ["set_type_id before cursor", { task_id: TASK, set_type_id: "9", cursor: "bad" }, 1004],
  ] as const)("reports the first failing rule: %s", (_name, q, code) => {
    expectRefused(() => parseSetPageQuery(q), code);
  });

  it("ignores unknown parameters", () => {
    expect(parseSetPageQuery({ ...query, foo: "bar" }).setType).toBe(1);
  });

  it("does not read inherited or __proto__ parameters", () => {
    expectRefused(() => parseSetPageQuery(Object.create(query) as Record<string, string>), 1002);
    expectRefused(() => parseSetPageQuery(JSON.parse(`{"__proto__": ${JSON.stringify(query)}}`)), 1002);
  });
});

describe("parseRegisterRequest", () => {
  const image = (i: number) => ({ img_id: `img${i}`, img_name: `img_${i}.png` });
  const images = (n: number) => Array.from({ length: n }, (_, i) => image(i));
  const withImages = (list: unknown) => ({ task_id: TASK, images: list });

  it("returns the images in request order, state only where given (a new image starts at 0, a known one keeps its own)", () => {
    const body = withImages([
      { img_id: "2018070417860564001", img_name: "img_拓海_1.png", state: 1 },
      { img_id: 123, img_name: "b.jpg", state: "3" },
      { img_id: "c", img_name: "c.jpg" },
      { img_id: "d", img_name: "d.jpg", state: undefined },
    ]);
    expect(parseRegisterRequest(body)).toEqual({
      taskId: TASK,
      images: [
        { imgId: "2018070417860564001", imgName: "img_拓海_1.png", state: 1 },
        { imgId: "123", imgName: "b.jpg", state: 3 },
        { imgId: "c", imgName: "c.jpg" },
        { imgId: "d", imgName: "d.jpg" },
      ],
    });
  });

  it.each([
    ["one image", 1],
    ["1000 images", 1000],
  ])("accepts %s", (_name, n) => {
    expect(parseRegisterRequest(withImages(images(n))).images).toHaveLength(n);
  });

  it.each([
    ["255 characters", "n".repeat(255)],
    ["255 astral code points (510 UTF-16 units)", "😀".repeat(255)],
    ["a name with inner and outer spaces", " a b "],
    ["a single character", "x"],
  ])("accepts an img_name of %s", (_name, name) => {
    expect(parseRegisterRequest(withImages([{ img_id: "a", img_name: name }])).images[0]?.imgName).toBe(name);
  });

  it.each([null, [], "body", 7])("refuses the body %j with 1001", (body) => {
    expectRefused(() => parseRegisterRequest(body), 1001);
  });

  it("checks task_id (1002) before images", () => {
    expectRefused(() => parseRegisterRequest({ task_id: UNSAFE, images: [] }), 1002);
  });

  it.each([
    ["missing", undefined],
    ["null", null],
    ["an object", { 0: image(0) }],
    ["a string", "img0"],
    ["empty", []],
    ["1001 entries", images(1001)],
  ])("refuses images that are %s (field images)", (_name, list) => {
    expectImagesRefused(withImages(list), "images");
  });

  it.each([
    ["null", null],
    ["a string", "img1"],
    ["a number", 1],
    ["an array", [image(1)]],
    ["a hole in a sparse array", undefined],
  ])("refuses an entry that is %s (field images[i])", (_name, entry) => {
    const list: unknown[] = [image(0), image(1)];
    if (entry === undefined) delete list[1];
    else list[1] = entry;
    expectImagesRefused(withImages(list), "images[1]");
  });

  it.each([
    ["missing", undefined],
    ["null", null],
    ["empty", ""],
    ["malformed", "a b"],
    ["65 characters", "x".repeat(65)],
    ["2**53", UNSAFE],
    ["7.5", 7.5],
    ["a boolean", true],
    ["an object", { id: "a" }],
  ])("refuses an img_id that is %s", (_name, imgId) => {
    expectImagesRefused(withImages([image(0), { img_id: imgId, img_name: "a.png" }]), "images[1].img_id");
  });

  it.each([
    ["missing", undefined],
    ["null", null],
    ["empty", ""],
    ["only spaces", "   "],
    ["only tabs and newlines", "\t\n"],
    ["only an ideographic space", "\u3000"],
    ["256 characters", "n".repeat(256)],
    ["256 astral code points", "😀".repeat(256)],
    ["a number", 123],
    ["an array", ["a.png"]],
  ])("refuses an img_name that is %s", (_name, imgName) => {
    expectImagesRefused(withImages([image(0), { img_id: "x", img_name: imgName }]), "images[1].img_name");
  });

  it.each([
    [0, 0],
    ["2", 2],
    [5, 5],
    [MAX_SAFE, MAX_SAFE],
  ])("accepts state %j", (state, expected) => {
    expect(parseRegisterRequest(withImages([{ ...image(0), state }])).images[0]?.state).toBe(expected);
  });

  it.each([-1, "-1", 7.5, "1.0", "abc", "", null, true, {}, [1], UNSAFE])("refuses state %j", (state) => {
    expectImagesRefused(withImages([image(0), { ...image(1), state }]), "images[1].state");
  });

  it.each([
    ["the same string twice", ["a", "b", "a"], "images[2].img_id"],
    ["a number and its string", [123, "123"], "images[1].img_id"],
    ["the first duplicate pair wins", ["a", "b", "b", "a"], "images[2].img_id"],
  ])("refuses a duplicate img_id: %s", (_name, ids, field) => {
    expectImagesRefused(withImages(ids.map((id) => ({ img_id: id, img_name: "x.png" }))), field);
  });

  it("refuses a duplicate at the last place of 1000 images", () => {
    const list = images(1000);
    list[999] = image(0);
    expectImagesRefused(withImages(list), "images[999].img_id");
  });

  it.each([
    ["an earlier entry before a later one", [{ img_id: "a", img_name: "" }, { img_id: "" }], "images[0].img_name"],
    ["img_id before img_name", [{ img_id: "", img_name: "", state: -1 }], "images[0].img_id"],
    ["img_name before state", [{ img_id: "a", img_name: " ", state: -1 }], "images[0].img_name"],
    ["a duplicate img_id before its img_name", [image(0), { img_id: "img0", img_name: "" }], "images[1].img_id"],
    ["a bad state before a later duplicate", [image(0), { ...image(1), state: -1 }, image(0)], "images[1].state"],
  ])("reports the first failing field: %s", (_name, list, field) => {
    expectImagesRefused(withImages(list), field);
  });

  describe("own properties only", () => {
    it("reads an entry made by Object.create(null)", () => {
      const entry = Object.assign(Object.create(null) as object, image(0));
      expect(parseRegisterRequest(withImages([entry])).images[0]?.imgId).toBe("img0");
    });

    it("refuses an entry's __proto__ key as an unknown field, and never reads its fields", () => {
      const entry = JSON.parse(`{"__proto__": {"img_id": "a", "img_name": "a.png"}, "img_name": "b.png"}`);
      expect(thrown(() => parseRegisterRequest(withImages([entry]))).message).toBe("未知字段: images[0].__proto__");
      expectImagesRefused(withImages([entry]), "images[0].img_id", { strict: false });
    });

    it("refuses an unknown image field, naming its place and the nearest known one", () => {
      const refused = thrown(() => parseRegisterRequest(withImages([image(0), { ...image(1), labl: "cat" }])));
      expect([refused.code, refused.message]).toEqual([1023, "未知字段: images[1].labl"]);
      expect(refused.detail).toContain("did you mean images[1].label?");
    });

    it("does not read inherited images", () => {
      const body = Object.assign(Object.create({ images: images(1) }) as object, { task_id: TASK });
      expectImagesRefused(body, "images");
    });

    it("does not read an inherited state", () => {
      const entry = Object.assign(Object.create({ state: -1 }) as object, image(0));
      expect(parseRegisterRequest(withImages([entry])).images[0]).toEqual({ imgId: "img0", imgName: "img_0.png" });
    });
  });
});

describe("text that is not well-formed Unicode", () => {
  it("refuses a lone surrogate in img_name (1011) and in seed (1016), accepts a real emoji", () => {
    const image = (img_name: string) => ({ task_id: "t", images: [{ img_id: "1", img_name }] });
    const split = (seed: string) => ({ task_id: "t", training_count: 1, verifying_count: 0, testing_count: 0, seed });

    expect(() => parseRegisterRequest(image("bad\ud800name"))).toThrow("图像数据格式错误: images[0].img_name");
    expect(() => parseSplitSpec(split("\udfff"))).toThrow("seed 必须是 1–128 个字符的字符串或安全整数");
    expect(parseRegisterRequest(image("img_😀.png")).images[0]?.imgName).toBe("img_😀.png");
    expect(parseSplitSpec(split("😀")).seed).toBe("😀");
  });
});

// ---- the optional split fields (ratios, stratify_by, group_by, rare_labels, mode, lock_testing, dry_run) ----

/** Asserts a 400 with `code` and its exact message (codes of the split options). */
function expectRefusedWith(fn: () => unknown, code: number, message: string) {
  const error = thrown(fn);
  expect({ code: error.code, status: error.status, message: error.message }).toEqual({ code, status: 400, message });
}

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

describe("parseRegisterRequest: label and group", () => {
  const withImage = (extra: Record<string, unknown>) => ({
    task_id: TASK,
    images: [{ img_id: "a", img_name: "a.png", ...extra }],
  });
  const first = (extra: Record<string, unknown>) => parseRegisterRequest(withImage(extra)).images[0];

  it("returns label and group when given, and no such keys when absent", () => {
    expect(first({ label: "cat", group: "patient-7" })).toEqual({
      imgId: "a",
      imgName: "a.png",
      label: "cat",
      group: "patient-7",
    });
    expect(Object.keys(first({})!).sort()).toEqual(["imgId", "imgName"]);
    expect(Object.keys(first({ label: undefined })!).sort()).toEqual(["imgId", "imgName"]);
  });

  it.each([
    ["a CJK label", "猫", "猫"],
    ["inner and outer spaces", " a b ", " a b "],
    ["128 characters", "x".repeat(128), "x".repeat(128)],
    ["128 astral code points", "😀".repeat(128), "😀".repeat(128)],
    ["a safe integer (a class index)", 3, "3"],
    ["zero", 0, "0"],
    ["-0", -0, "0"],
    ["a negative integer", -2, "-2"],
  ])("accepts %s as label and as group", (_name, value, expected) => {
    expect(first({ label: value })?.label).toBe(expected);
    expect(first({ group: value })?.group).toBe(expected);
  });

  it.each([
    ["empty", ""],
    ["only spaces", "   "],
    ["only an ideographic space", "\u3000"],
    ["129 characters", "x".repeat(129)],
    ["a lone surrogate", "a\ud800"],
    ["null", null],
    ["a fraction", 1.5],
    ["2**53", UNSAFE],
    ["a boolean", true],
    ["an array", ["cat"]],
    ["an object", { name: "cat" }],
  ])("refuses %s (images[i].label, images[i].group)", (_name, value) => {
    expectImagesRefused(
      { task_id: TASK, images: [image0(), { img_id: "b", img_name: "b.png", label: value }] },
      "images[1].label",
    );
    expectImagesRefused(
      { task_id: TASK, images: [image0(), { img_id: "b", img_name: "b.png", group: value }] },
      "images[1].group",
    );
  });

  it("checks state before label before group", () => {
    expectImagesRefused(withImage({ state: -1, label: "", group: "" }), "images[0].state");
    expectImagesRefused(withImage({ label: "", group: "" }), "images[0].label");
    expectImagesRefused(withImage({ label: "ok", group: "" }), "images[0].group");
  });

  it("does not read an inherited label", () => {
    const entry = Object.assign(Object.create({ label: "cat" }) as object, { img_id: "a", img_name: "a.png" });
    expect(parseRegisterRequest({ task_id: TASK, images: [entry] }).images[0]?.label).toBeUndefined();
  });
});

function image0() {
  return { img_id: "a", img_name: "a.png" };
}
