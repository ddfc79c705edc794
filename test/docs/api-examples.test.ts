import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { useFreshNpmStart } from "../support/npm-start.ts";

/**
 * docs/api.md's examples, run as a reader runs them: a fresh `npm start -- --in-memory` (here on a
 * free port), then every curl command of every ```sh block in order, each block's last answer
 * compared with the ```json block under it. A `<next_cursor>` in a command is the `next_cursor`
 * of the answer before it (cursors name a split's random token, so they differ per run).
 * Blocks that need a token (`$TOKEN`, a server started with `--auth`) are left out.
 */

const API = readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");

interface Command {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

interface Block {
  line: number;
  commands: Command[];
  expected: unknown;
}

/** One curl command's method, URL, headers and body (single-quoted arguments may span lines). */
function parseCurl(text: string): Command {
  const args = [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(
    ([, single, double, bare]) => single ?? double ?? (bare as string),
  );
  const command: Command = { method: "GET", url: "", headers: {}, body: undefined };
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-X") command.method = args[++i] as string;
    else if (arg === "-H") {
      const [name, ...value] = (args[++i] as string).split(":");
      command.headers[(name as string).trim()] = value.join(":").trim();
    } else if (arg === "-d") command.body = args[++i];
    else if (arg.startsWith("http://")) command.url = arg;
  }
  return command;
}

/** Each ```sh block's curl commands, with the ```json block right under it (if any). */
function blocks(text: string): Block[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```(?:\s*```json\n([\s\S]*?)```)?/g)]
    .filter(([sh]) => /^curl /m.test(sh ?? "") && !sh?.includes("$TOKEN"))
    .map((match) => {
      const sh = (match[1] ?? "")
        .split("\n")
        .filter((line) => !line.trimStart().startsWith("#"))
        .join("\n")
        .replace(/\\\n\s*/g, " ");
      const commands = sh
        .split(/^(?=curl )/m)
        .filter((part) => part.startsWith("curl "))
        .map(parseCurl);
      const line = text.slice(0, match.index).split("\n").length;
      return { line, commands, expected: match[2] === undefined ? undefined : JSON.parse(match[2]) };
    });
}

const server = useFreshNpmStart();

describe("docs/api.md's examples on a fresh npm start -- --in-memory", () => {
  const shown = blocks(API);

  it("has its commands and their answers", () => {
    expect(shown.filter((block) => block.expected !== undefined).length).toBeGreaterThanOrEqual(10);
  });

  it("answers every command, in order, exactly as shown", async () => {
    let cursor = "";
    for (const block of shown) {
      let answer: unknown;
      for (const command of block.commands) {
        const url = command.url.replace("http://127.0.0.1:8000", server.base()).replace("<next_cursor>", cursor);
        const response = await fetch(url, { method: command.method, headers: command.headers, body: command.body });
        answer = await response.json();
        cursor = ((answer as { next_cursor?: string }).next_cursor ?? cursor) as string;
      }
      if (block.expected === undefined) continue;
      // The cursor an answer shows is one run's: compare it as "a cursor".
      const comparable = (value: unknown) =>
        typeof value === "object" && value !== null && "next_cursor" in value
          ? { ...value, next_cursor: "<next_cursor>" }
          : value;
      expect.soft(comparable(answer), `docs/api.md line ${block.line}`).toEqual(comparable(block.expected));
    }
  });
});
