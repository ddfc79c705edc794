import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../support/http.ts";

let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api.close());

describe("a body that is not a JSON object, over HTTP", () => {
  it("says where the JSON parser stopped", async () => {
    const reply = await api.call("PUT", "/training/tasks/sets", '{"task_id": "42", "training_count": 7,}');
    expect([reply.status, reply.body.code]).toEqual([400, 1001]);
    expect(reply.body.detail).toMatch(/^the body is not valid JSON: .*position 38/);
  });

  it("says an empty body is empty, not null", async () => {
    for (const body of [undefined, "", "  "]) {
      const reply = await api.call("POST", "/training/tasks/images", body);
      expect([reply.status, reply.body.code, reply.body.detail]).toEqual([
        400,
        1001,
        "the body is empty: send a JSON object",
      ]);
    }
    const literal = await api.call("POST", "/training/tasks/images", "null");
    expect(literal.body.detail).toBe("the body must be a JSON object, got null");
  });
});
