import { readdirSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { readConfig } from "../../lib/config.ts";
import type { FunctionName } from "../../lib/routes.ts";
import { createStore } from "../../lib/store/index.ts";
import { lambdaContext, loadHandler } from "../../scripts/lambda.ts";
import { invokeLines } from "../support/docs.ts";

const root = new URL("../../", import.meta.url);
const readEvent = (file: string) => JSON.parse(readFileSync(new URL(file, root), "utf8")) as Record<string, unknown>;

beforeAll(async () => {
  await createStore(readConfig()).ensureTable();
});

describe("events/ fixtures, through their handlers in the order of docs/operations.md", () => {
  const lines = invokeLines();

  it("are all in docs/operations.md's npm run invoke lines", () => {
    const events = readdirSync(new URL("events/", root)).filter((name) => name.endsWith(".json"));
    expect(new Set(lines.map((line) => line.event))).toEqual(new Set(events.map((name) => `events/${name}`)));
  });

  // Sequential on purpose: the images are registered first, then split, listed and re-split.
  for (const { line, name, event: file } of lines) {
    it(line, async () => {
      // Arrange
      const event = readEvent(file);
      const handler = await loadHandler(name as FunctionName);
      const log = vi.spyOn(console, "log").mockImplementation(() => undefined);

      // Act
      const result = (await handler(event, lambdaContext(name as FunctionName))) as Record<string, unknown>;
      const logged = log.mock.calls.map(([line]) => String(line));
      log.mockRestore();

      // Assert
      if ("httpMethod" in event && event.path === "/docs") {
        expect(result).toMatchObject({ statusCode: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
        expect(result.body).toContain("/v1/openapi.json");
      } else if ("httpMethod" in event) {
        expect(result).toMatchObject({
          statusCode: 200,
          headers: { "Content-Type": "application/json; charset=utf-8" },
        });
        const body = JSON.parse(result.body as string);
        if (event.path === "/openapi.json") expect(body).toMatchObject({ openapi: "3.1.0" });
        else expect(body).toMatchObject({ code: 0, task_id: "2018062212345678911" });
      } else {
        expect(result.results).toEqual([
          expect.objectContaining({
            task_id: "2018062212345678911",
            outcome: "split",
            training_count: 7,
            verifying_count: 2,
            testing_count: 1,
          }),
        ]);
        // one structured log line per task
        expect(logged.map((line) => JSON.parse(line))).toEqual([
          expect.objectContaining({ level: "info", msg: "resplit", task_id: "2018062212345678911", outcome: "split" }),
        ]);
      }
    });
  }
});
