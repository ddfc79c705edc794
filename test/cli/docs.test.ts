import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../support/http.ts";

/**
 * docs/client-and-cli.md's command-line sessions (the ```sh blocks whose lines start with `$ `),
 * run as shown, in order, in one empty folder against a fresh task, each output compared with
 * the lines under its command: JSON compared as values (the page shows it compacted), times and
 * the server's address as the page shows them, CRLF line ends as LF, the progress lines on
 * stderr left out.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PAGE = readFileSync(join(ROOT, "docs", "client-and-cli.md"), "utf8");
const SHOWN_URL = "http://127.0.0.1:8000";
const PROGRESS = /^(registering|deleting|exporting|listing [a-z]+): \d+(\/\d+)?$/;
const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;

interface Step {
  command: string;
  shown: string[];
}

function sessions(page: string): Step[] {
  const blocks = [...page.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((match) => match[1] ?? "");
  const steps: Step[] = [];
  for (const block of blocks.filter((text) => text.startsWith("$ "))) {
    for (const line of block.trimEnd().split("\n")) {
      if (line.startsWith("$ ")) steps.push({ command: line.slice(2), shown: [] });
      else steps.at(-1)?.shown.push(line);
    }
  }
  return steps;
}

/** Lines with each JSON value (a line starting { or [, up to where it parses) as one canonical line. */
function canonical(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    let parsed: string | undefined;
    if (/^\s*[[{]/.test(line)) {
      for (let end = i; end < lines.length && parsed === undefined; end++) {
        try {
          parsed = JSON.stringify(JSON.parse(lines.slice(i, end + 1).join("\n")));
          i = end;
        } catch {}
      }
    }
    out.push((parsed ?? line).replace(TIME, "<time>"));
  }
  return out;
}

let gateway: Awaited<ReturnType<typeof startApi>>;
let folder: string;
beforeAll(async () => {
  gateway = await startApi();
  folder = mkdtempSync(join(tmpdir(), "training-sets-docs-"));
});
afterAll(async () => {
  await gateway.close();
  rmSync(folder, { recursive: true, force: true });
});

/** One command line in bash, `npx training-sets` being this repository's bin; stdout and stderr in one stream. */
function run(command: string): Promise<string> {
  const npx = `npx() { if [ "$1" = training-sets ]; then shift; "${process.execPath}" "${join(ROOT, "bin", "training-sets.js")}" "$@"; else command npx "$@"; fi; }`;
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-c", `${npx}\n{ ${command}\n} 2>&1`],
      { cwd: folder, env: { ...process.env, TRAINING_SETS_URL: gateway.base } },
      (_error, stdout) => resolve(stdout),
    );
  });
}

describe("docs/client-and-cli.md's command-line sessions", () => {
  const steps = sessions(PAGE);

  it("has them", () => {
    expect(steps.map((step) => step.command.split(" ").slice(0, 2).join(" "))).toEqual(
      expect.arrayContaining(["npx training-sets", "printf '\\xef\\xbb\\xbfimg_id,img_name,label,group\\r\\n1,\"cat,"]),
    );
    expect(steps.filter((step) => step.command.includes("training-sets export"))).toHaveLength(1);
  });

  it("print what the page shows, command by command", async () => {
    for (const step of steps) {
      const output = (await run(step.command)).replaceAll(gateway.base, SHOWN_URL);
      const lines = output
        .replace(/\n$/, "")
        .split("\n")
        .map((line) => line.replace(/\r$/, ""))
        .filter((line) => line !== "" && !PROGRESS.test(line));
      expect(canonical(lines), `$ ${step.command}\n${output}`).toEqual(canonical(step.shown));
    }
  }, 180_000);
});
