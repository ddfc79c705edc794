import { request as httpRequest } from "node:http";
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

  it("answers a body of 10 MB and more with 413, never a broken pipe, however slowly it is sent", async () => {
    const chunk = Buffer.alloc(256 * 1024, "x");
    for (let i = 0; i < 3; i++) {
      const reply = await new Promise<{ status: number | undefined; body: string }>((answered, failed) => {
        const request = httpRequest(`${api.base}/training/tasks/images`, {
          method: "POST",
          headers: { "content-type": "application/json" },
        });
        request.on("response", (response) => {
          let body = "";
          response.on("data", (part: Buffer) => {
            body += part.toString();
          });
          response.on("end", () => answered({ status: response.statusCode, body }));
        });
        request.on("error", failed);
        (async () => {
          for (let sent = 0; sent < 48 && !request.destroyed; sent++) {
            if (!request.write(chunk)) await new Promise((drained) => request.once("drain", drained));
            await new Promise((later) => setTimeout(later, 2));
          }
          request.end();
        })().catch(failed);
      });
      expect([reply.status, JSON.parse(reply.body).code]).toEqual([413, 1014]);
    }
  });
});
