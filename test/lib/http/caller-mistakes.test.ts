import { describe, expect, it } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { parseImagesQuery, parseSetsQuery } from "../../../lib/http/queries.ts";
import { parseDeleteRequest, parseRegisterRequest } from "../../../lib/http/validate.ts";

// The mistakes a caller makes most, each answered with the code and a detail that says what to send.

function refusal(run: () => unknown): { code: number; msg: string; detail: string | undefined } {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return { code: error.code, msg: error.message, detail: error.detail };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("an unknown query parameter", () => {
  it("is 1023 on both GETs, before task_id, naming the parameter and the one meant", () => {
    expect(refusal(() => parseSetsQuery({ task_id: "42", set_type: "1" }))).toEqual({
      code: 1023,
      msg: "未知字段: set_type",
      detail:
        "unknown query parameter set_type (did you mean set_type_id?); known query parameters: task_id, set_type_id, limit, cursor",
    });
    expect(refusal(() => parseSetsQuery({ set_type: "1" })).code).toBe(1023);
    expect(refusal(() => parseImagesQuery({ task_id: "42", imgid: "1" })).detail).toBe(
      "unknown query parameter imgid (did you mean img_id?); known query parameters: task_id, img_id, limit, cursor",
    );
  });

  it("is only logged under the lenient field policy (STRICT_FIELDS=false)", () => {
    const reported: string[][] = [];
    const policy = { strict: false, onUnknown: (fields: string[]) => reported.push(fields) };
    expect(parseSetsQuery({ task_id: "42", set_type_id: "1", _: "cache" }, policy).taskId).toBe("42");
    expect(parseImagesQuery({ task_id: "42", debug: "1" }, policy).taskId).toBe("42");
    expect(reported).toEqual([["_"], ["debug"]]);
  });

  it("leaves the known parameters as they were", () => {
    expect(parseSetsQuery({ task_id: "42" })).toEqual({ taskId: "42" });
    expect(parseImagesQuery({ task_id: "42", img_id: "7" })).toMatchObject({ taskId: "42", imgId: "7" });
  });
});

describe("an image field under a near name", () => {
  it("gets the field it ends (name → img_name, id → img_id)", () => {
    const named = refusal(() => parseRegisterRequest({ task_id: "42", images: [{ img_id: "1", name: "a.jpg" }] }));
    expect([named.code, named.detail]).toEqual([
      1023,
      "unknown field images[0].name (did you mean images[0].img_name?); known fields: img_id, img_name, state, label, group",
    ]);
    const id = refusal(() => parseRegisterRequest({ task_id: "42", images: [{ id: "1", img_name: "a.jpg" }] }));
    expect(id.detail).toContain("(did you mean images[0].img_id?)");
  });
});

describe("a 19-digit id sent as a JSON number", () => {
  // 2018072080042233351 has already become 2018072080042233300 when JSON.parse hands it over.
  const rounded = JSON.parse("2018072080042233351") as number;

  it("says it arrived rounded and to send ids as strings, wherever the id is", () => {
    const hint = "is a number past 2^53, which arrives rounded (to 2018072080042233300): send ids as JSON strings";
    const image = refusal(() => parseRegisterRequest({ task_id: "42", images: [{ img_id: rounded, img_name: "a" }] }));
    expect([image.code, image.detail]).toEqual([1011, `images[0].img_id ${hint}`]);
    expect(refusal(() => parseDeleteRequest({ task_id: "42", img_ids: ["1", rounded] })).detail).toBe(
      `img_ids[1] ${hint}`,
    );
    expect(refusal(() => parseRegisterRequest({ task_id: rounded, images: [] })).detail).toBe(`task_id ${hint}`);
  });

  it("keeps a safe integer as its digits", () => {
    expect(parseDeleteRequest({ task_id: 42, img_ids: [9_007_199_254_740_991] })).toMatchObject({
      taskId: "42",
      imgIds: ["9007199254740991"],
    });
  });
});
