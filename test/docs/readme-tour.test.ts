import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { useFreshNpmStart } from "../support/npm-start.ts";

/**
 * The README's five-minute tour, run as a new user runs it: `npm start -- --in-memory` (here on a
 * free port), then each curl command in order, each answer compared with the JSON shown under it.
 */

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const tour = README.slice(README.indexOf("## A five-minute tour"), README.indexOf("## Where to read on"));

interface Step {
  method: string;
  url: string;
  body: string | undefined;
  expected: unknown;
}

/** Each ```sh block's curl command (continuation lines joined) with the ```json block after it. */
function steps(text: string): Step[] {
  const pairs = [...text.matchAll(/```sh\n([\s\S]*?)```\s*```json\n([\s\S]*?)```/g)];
  return pairs.map(([, sh = "", json = ""]) => {
    const command = sh
      .split("\n")
      .filter((line) => !line.startsWith("#"))
      .join("\n")
      .replace(/\\\n\s*/g, "");
    const method = command.match(/-X (\w+)/)?.[1] ?? "GET";
    const url = command.match(/'(http:\/\/[^']+)'|(http:\/\/\S+)/);
    const body = command.match(/-d '([^']*)'/)?.[1];
    return { method, url: (url?.[1] ?? url?.[2] ?? "").trim(), body, expected: JSON.parse(json) };
  });
}

const server = useFreshNpmStart();

describe("the README's five-minute tour on a fresh npm start -- --in-memory", () => {
  const shown = steps(tour);

  it("has its commands and their answers", () => {
    expect(shown.length).toBeGreaterThanOrEqual(4);
  });

  it("answers every command, in order, exactly as shown", async () => {
    for (const step of shown) {
      const url = step.url.replace("http://127.0.0.1:8000", server.base());
      const response = await fetch(url, { method: step.method, body: step.body });
      expect(await response.json(), `${step.method} ${step.url}`).toEqual(step.expected);
    }
  });
});
