import { describe, expect, it } from "vitest";
import { parseRegisterRequest, parseSplitSpec } from "../../../lib/http/validate.ts";
import { expectImagesRefused, expectRefused, MAX_SAFE, TASK, thrown, UNSAFE } from "./refusals.ts";

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
