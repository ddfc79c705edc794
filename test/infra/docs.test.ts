import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { afterAll, describe, expect, it } from "vitest";
import { addTrainingSetsStack } from "../../infra/build-app.ts";
import { errorEntries } from "../../lib/contract/errors.ts";
import { openApiDocument } from "../../lib/contract/openapi.ts";
import { FUNCTIONS } from "../../lib/routes.ts";
import { invokeLines, samLines } from "../support/docs.ts";

interface Resource {
  Type: string;
  Metadata?: Record<string, unknown>;
}

const root = new URL("../../", import.meta.url);
const cdkJson = JSON.parse(readFileSync(new URL("cdk.json", root), "utf8")) as {
  output: string;
  context: Record<string, unknown>;
};

// The app as `npm run synth` runs it (cdk.json's context, asset metadata on as the CLI sets it,
// the functions really bundled), written to a scratch directory instead of cdk.out.
const outdir = mkdtempSync(join(tmpdir(), "training-sets-synth-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));
const app = new App({ outdir, context: { ...cdkJson.context, "aws:cdk:enable-asset-metadata": true } });
const stack = addTrainingSetsStack(app);
const assembly = app.synth();
const artifact = assembly.getStackArtifact(stack.artifactId);
const resources = artifact.template.Resources as Record<string, Resource>;

const events = readdirSync(new URL("events/", root)).filter((name) => name.endsWith(".json"));

describe("docs/operations.md's sam local invoke lines", () => {
  const lines = samLines();

  it("exist, one per event fixture, covering every function", () => {
    expect(lines.map((line) => line.event).sort()).toEqual(events.map((name) => `events/${name}`).sort());
    expect(new Set(lines.map((line) => line.logicalId))).toEqual(new Set(FUNCTIONS.map((fn) => fn.name)));
  });

  it("name the template `npm run synth` writes", () => {
    for (const { line, template } of lines) expect(template, line).toBe(`${cdkJson.output}/${artifact.templateFile}`);
  });

  it("name functions of that template whose bundle is where the asset metadata says, with the handler", () => {
    for (const { line, logicalId } of lines) {
      const resource = resources[logicalId];
      expect(resource?.Type, line).toBe("AWS::Lambda::Function");
      expect(resource?.Metadata?.["aws:asset:property"], line).toBe("Code");
      const assetPath = resource?.Metadata?.["aws:asset:path"];
      expect(assetPath, line).toMatch(/^asset\.[0-9a-f]{64}$/);
      const bundle = join(outdir, assetPath as string, "index.mjs");
      expect(existsSync(bundle), `${line}: ${bundle}`).toBe(true);
      expect(readFileSync(bundle, "utf8"), line).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{[^}]*\bhandler\b/);
    }
  });

  it("pair each event with the same function as docs/operations.md's npm run invoke lines, in the same order", () => {
    expect(lines.map(({ logicalId, event }) => [logicalId, event])).toEqual(
      invokeLines().map(({ name, event }) => [name, event]),
    );
  });
});

describe("docs/api.md's error table", () => {
  const text = readFileSync(new URL("docs/api.md", root), "utf8");
  const section = text.slice(text.indexOf("## Errors"), text.indexOf("\n## ", text.indexOf("## Errors") + 1));
  const rows = [...section.matchAll(/^\| (\d{4}) +\| ([\d /]+?) +\| .*? \| (\S.*?) +\|$/gm)].map(
    ([, code, http, msg]) => ({
      code: Number(code),
      statuses: (http ?? "").split("/").map((status) => Number(status.trim())),
      msg,
    }),
  );
  const entries = errorEntries();

  it("has one row per code of the OpenAPI document, in the same order", () => {
    expect(rows.map((row) => row.code)).toEqual(entries.map((entry) => entry.code));
  });

  it("gives each code the document's HTTP statuses and message pattern", () => {
    for (const entry of entries) {
      expect(
        rows.find((row) => row.code === entry.code),
        `${entry.code}`,
      ).toEqual({
        code: entry.code,
        statuses: entry.statuses,
        msg: entry.msg,
      });
    }
  });

  it("is what the document's error responses say: each code under each of its statuses somewhere", () => {
    const document = openApiDocument();
    const answered = new Set<string>();
    const responses = [
      ...Object.values(document.paths).flatMap((item) =>
        Object.values(item).flatMap((operation) => Object.entries(operation.responses)),
      ),
      ["404", document.components.responses.UnknownRoute],
      ["405", document.components.responses.UnknownRoute],
    ] as const;
    for (const [status, response] of responses) {
      for (const code of JSON.stringify(response?.content ?? {}).matchAll(/schemas\/Error(\d+)"/g)) {
        answered.add(`${code[1]} ${status}`);
      }
    }
    for (const row of rows)
      for (const status of row.statuses) expect(answered, `${row.code} ${status}`).toContain(`${row.code} ${status}`);
  });
});
