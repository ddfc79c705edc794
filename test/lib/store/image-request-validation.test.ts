import { describe, expect, it } from "vitest";
import { parseImagesQuery } from "../../../lib/http/queries.ts";
import { parseDeleteRequest } from "../../../lib/http/validate.ts";

describe("validation", () => {
  it("GET: another parameter 1023 first, task_id 1002, a malformed img_id 1011 naming img_id, limit and cursor 1012", () => {
    const code = (query: Record<string, string>) => {
      try {
        parseImagesQuery(query);
        return 0;
      } catch (error) {
        return (error as { code: number }).code;
      }
    };
    expect(code({ img_id: "x" })).toBe(1002);
    expect(code({ task_id: "t", img_id: "bad id" })).toBe(1011);
    expect(code({ task_id: "t", limit: "0" })).toBe(1012);
    expect(code({ task_id: "t", limit: "10001" })).toBe(1012);
    expect(code({ task_id: "t", cursor: "garbage" })).toBe(1012);
    expect(code({ set_type_id: "7" })).toBe(1023);
    expect(code({ task_id: "t", img_id: "i1", limit: "3" })).toBe(0);
    expect(parseImagesQuery({ task_id: '"t"', img_id: "i1" })).toEqual({
      taskId: "t",
      imgId: "i1",
      limit: 5000,
      cursor: undefined,
    });
  });

  it("DELETE: body 1001, unknown fields 1023, task_id 1002, then img_ids 1011 naming the field", () => {
    const failure = (body: unknown) => {
      try {
        parseDeleteRequest(body);
        return undefined;
      } catch (error) {
        return { code: (error as { code: number }).code, msg: (error as Error).message };
      }
    };
    expect(failure([1])?.code).toBe(1001);
    expect(failure({ task_id: "bad id", img_ids: [], extra: 1 })?.code).toBe(1023);
    expect(failure({ task_id: "bad id", img_ids: [] })?.code).toBe(1002);
    expect(failure({ task_id: "t", img_ids: [] })).toEqual({ code: 1011, msg: "图像数据格式错误: img_ids" });
    expect(failure({ task_id: "t", img_ids: "a" })?.msg).toBe("图像数据格式错误: img_ids");
    expect(failure({ task_id: "t", img_ids: Array.from({ length: 1001 }, (_, i) => `i${i}`) })?.msg).toBe(
      "图像数据格式错误: img_ids",
    );
    expect(failure({ task_id: "t", img_ids: ["a", "b", "c", "a"] })?.msg).toBe("图像数据格式错误: img_ids[3]");
    expect(failure({ task_id: "t", img_ids: ["a", "b", "c", "no way"] })?.msg).toBe("图像数据格式错误: img_ids[3]");
    expect(parseDeleteRequest({ task_id: 12, img_ids: [1, "b"] })).toEqual({ taskId: "12", imgIds: ["1", "b"] });
  });
});
