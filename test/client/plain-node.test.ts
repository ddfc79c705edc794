import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../support/http.ts";

/**
 * docs/client-and-cli.md's example.mjs, run as another project runs it: plain `node` (the Node 24
 * of node_modules/.bin, with no loader), in a folder of its own whose node_modules links this
 * package, as `npm install <path of the checkout>` does, importing `training-sets/client` through
 * package.json's `exports`. Its output must be the one the page shows.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NODE = join(ROOT, "node_modules", ".bin", "node");
const PAGE = readFileSync(join(ROOT, "docs", "client-and-cli.md"), "utf8");
const EXAMPLE = /```js\n(\/\/ example\.mjs[\s\S]*?)```[\s\S]*?```\n([\s\S]*?)```/.exec(PAGE);

let gateway: Awaited<ReturnType<typeof startApi>>;
let project: string;
beforeAll(async () => {
  gateway = await startApi();
  project = mkdtempSync(join(tmpdir(), "training-sets-consumer-"));
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ type: "module", dependencies: { "training-sets": ROOT } }),
  );
  mkdirSync(join(project, "node_modules"));
  symlinkSync(ROOT, join(project, "node_modules", "training-sets"), "dir");
});
afterAll(async () => {
  await gateway.close();
  rmSync(project, { recursive: true, force: true });
});

function runNode(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  writeFileSync(join(project, "script.mjs"), script);
  return new Promise((resolve) => {
    execFile(
      NODE,
      ["script.mjs"],
      { cwd: project, env: { PATH: process.env.PATH, TRAINING_SETS_URL: gateway.base, NODE_OPTIONS: "" } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe("the client imported by plain node from another project", () => {
  it("runs the page's example.mjs and prints what the page shows", async () => {
    // Arrange
    expect(EXAMPLE, "docs/client-and-cli.md: a ```js block starting // example.mjs, then its output").not.toBeNull();
    const [, script = "", shown = ""] = EXAMPLE ?? [];
    expect(script).toContain('from "training-sets/client"');

    // Act
    const run = await runNode(script);

    // Assert
    expect(run, run.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toBe(shown);
  });

  it("exposes only the client: another path of the package is not exported", async () => {
    // Act
    const run = await runNode('await import("training-sets/cli/main.ts");');

    // Assert
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });
});
