import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startApi } from "../support/http.ts";

// `export` as a child process of the bin shim, against the real handlers on DynamoDB Local,
// through a loopback relay that can act (split the task again) before it passes a request on.
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "training-sets.js");
const SETS = ["training", "verifying", "testing"] as const;

/** Runs before the relay passes on a request for the task's images; `cursor` says which page. */
type Hook = (request: { cursor: boolean }) => Promise<void>;

let gateway: Awaited<ReturnType<typeof startApi>>;
let relay: ReturnType<typeof createServer>;
let relayUrl: string;
let hook: Hook | undefined;
let dir: string;
const savedGrace = process.env.SNAPSHOT_GRACE_SECONDS;
beforeAll(async () => {
  // A replaced split's snapshot expires 1 s after it leaves the last 20 (an hour in a stack).
  process.env.SNAPSHOT_GRACE_SECONDS = "1";
  gateway = await startApi();
  relay = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    if (url.pathname === "/training/tasks/images" && request.method === "GET") {
      await hook?.({ cursor: url.searchParams.has("cursor") });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = await fetch(`${gateway.base}${request.url}`, {
      method: request.method ?? "GET",
      headers: { "content-type": "application/json" },
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((listening) => relay.listen(0, "127.0.0.1", listening));
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), "training-sets-export-"));
});
afterAll(async () => {
  await new Promise((closed) => relay.close(closed));
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
  if (savedGrace === undefined) delete process.env.SNAPSHOT_GRACE_SECONDS;
  else process.env.SNAPSHOT_GRACE_SECONDS = savedGrace;
});
beforeEach(() => {
  hook = undefined;
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, TRAINING_SETS_URL: relayUrl } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

/** Text a spreadsheet would run as a formula, in names, labels and groups. */
const FORMULAS = ['=HYPERLINK("http://example.com/x","open")', "+1+cmd", "@SUM(1)", "-2+3"];

interface Registered {
  img_id: string;
  img_name: string;
  label: string;
  group: string;
}

async function register(taskId: string, count: number): Promise<Registered[]> {
  const images = Array.from({ length: count }, (_, i) => ({
    img_id: `${taskId}_${String(i + 1).padStart(3, "0")}`,
    img_name: i % 3 === 0 ? `${FORMULAS[i % 4]} ${i}` : `img ${i}.png`,
    label: i % 2 === 0 ? (FORMULAS[(i + 1) % 4] as string) : "cat",
    group: i % 5 === 0 ? (FORMULAS[(i + 2) % 4] as string) : `g${i % 4}`,
  }));
  const reply = await gateway.call("POST", "/training/tasks/images", { task_id: taskId, images });
  expect(reply.status).toBe(200);
  return images;
}

async function split(taskId: string, seed: string, counts: [number, number, number]) {
  const [training_count, verifying_count, testing_count] = counts;
  const reply = await gateway.call("PUT", "/training/tasks/sets", {
    task_id: taskId,
    training_count,
    verifying_count,
    testing_count,
    seed,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const body = reply.body as Record<string, unknown>;
  return {
    version: body.version as number,
    ids: Object.fromEntries(SETS.map((set) => [set, (body[`img_ids_set_${set}`] as string[]).toSorted()])),
  };
}

const manifestIn = (out: string) => JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
const txtIds = (out: string, set: string) =>
  readFileSync(join(out, `${set}.txt`), "utf8")
    .split("\n")
    .filter(Boolean)
    .toSorted();

describe("export", () => {
  it("writes the three sets with labels and groups and a manifest naming the split; csv escapes formulas unless --raw-csv", async () => {
    // Arrange
    const taskId = "export_all";
    const images = await register(taskId, 30);
    const byId = new Map(images.map((image) => [image.img_id, image]));
    const made = await split(taskId, "export", [15, 9, 6]);
    const [csv, raw, jsonl] = ["csv", "raw", "jsonl"].map((name) => join(dir, name));

    // Act
    const runs = [
      await cli(["export", "--task", taskId, "--out", csv!, "--limit", "7"]),
      await cli(["export", "--task", taskId, "--out", raw!, "--raw-csv"]),
      await cli(["export", "--task", taskId, "--out", jsonl!, "--format", "jsonl"]),
    ];

    // Assert: the runs
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0, stdout: "" });
    expect(runs[0]!.stderr).toContain(`split version 1: training 15, verifying 9, testing 6 images written to ${csv}`);
    // Assert: the manifests
    for (const [out, format] of [
      [csv!, "csv"],
      [raw!, "csv"],
      [jsonl!, "jsonl"],
    ] as const) {
      expect(readdirSync(out).sort()).toEqual(["manifest.json", ...SETS.map((set) => `${set}.${format}`)].sort());
      const manifest = manifestIn(out);
      expect(manifest).toMatchObject({
        task_id: taskId,
        split: {
          version: made.version,
          seed: "export",
          mode: "fresh",
          requested_sizes: { training: 15, verifying: 9, testing: 6 },
          achieved_sizes: { training: 15, verifying: 9, testing: 6 },
        },
        format,
        sets: {
          training: { file: `training.${format}`, count: 15 },
          verifying: { file: `verifying.${format}`, count: 9 },
          testing: { file: `testing.${format}`, count: 6 },
        },
        unassigned_count: 0,
        url: relayUrl,
      });
      expect(Date.parse(manifest.exported_at)).toBeGreaterThan(Date.parse(manifest.split.split_at));
    }
    expect(manifestIn(csv!)).toMatchObject({
      csv_formulas: "escaped",
      command: `training-sets export --task ${taskId} --out ${csv} --limit 7`,
    });
    expect(manifestIn(raw!).csv_formulas).toBe("raw");
    expect(manifestIn(jsonl!).csv_formulas).toBeUndefined();
    // Assert: the files hold each set of the split, in ascending order_id, each cell as registered
    const escaped = (text: string) => (/^[=+\-@]/.test(text) ? `'${text}` : text);
    for (const set of SETS) {
      const rows = parse(readFileSync(join(csv!, `${set}.csv`)), { columns: true }) as Record<string, string>[];
      const rawRows = parse(readFileSync(join(raw!, `${set}.csv`)), { columns: true }) as Record<string, string>[];
      const lines = readFileSync(join(jsonl!, `${set}.jsonl`), "utf8")
        .trimEnd()
        .split("\n");
      const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(rows.map((row) => row.img_id).toSorted()).toEqual(made.ids[set]);
      expect(rows.map((row) => Number(row.order_id))).toEqual(
        rows.map((row) => Number(row.order_id)).toSorted((a, b) => a - b),
      );
      for (const row of rows) {
        const image = byId.get(row.img_id!)!;
        expect([row.img_name, row.label, row.group]).toEqual([image.img_name, image.label, image.group].map(escaped));
      }
      expect(rawRows.map((row) => [row.img_id, row.img_name, row.label, row.group])).toEqual(
        rows.map((row) => {
          const image = byId.get(row.img_id!)!;
          return [image.img_id, image.img_name, image.label, image.group];
        }),
      );
      expect(objects).toEqual(
        rows.map((row) => ({ ...byId.get(row.img_id!), state: 0, order_id: Number(row.order_id) })),
      );
    }
    expect(readFileSync(join(csv!, "training.csv"), "utf8")).toContain(`'${FORMULAS[0]!.replaceAll('"', '""')}`);
  });

  it("reads every page from the split its first page read, though the task is split again after it", async () => {
    // Arrange
    const taskId = "export_pinned";
    await register(taskId, 20);
    const first = await split(taskId, "first", [10, 6, 4]);
    let again: Awaited<ReturnType<typeof split>> | undefined;
    hook = async ({ cursor }) => {
      if (cursor && !again) again = await split(taskId, "second", [4, 6, 10]);
    };
    const out = join(dir, "pinned");

    // Act
    const run = await cli(["export", "--task", taskId, "--out", out, "--format", "txt", "--limit", "5"]);

    // Assert
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(again?.version).toBe(2);
    expect(manifestIn(out).split).toMatchObject({ version: 1, seed: "first" });
    for (const set of SETS) expect(txtIds(out, set)).toEqual(first.ids[set]);
  });

  it("reads the first page again when a split is published while it is read, and names that split", async () => {
    // Arrange
    const taskId = "export_moved";
    await register(taskId, 12);
    await split(taskId, "first", [6, 4, 2]);
    let again: Awaited<ReturnType<typeof split>> | undefined;
    hook = async ({ cursor }) => {
      if (!cursor && !again) again = await split(taskId, "second", [2, 4, 6]);
    };
    const out = join(dir, "moved");

    // Act
    const run = await cli(["export", "--task", taskId, "--out", out, "--format", "txt"]);

    // Assert
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stderr).toContain("split version 2 was published meanwhile");
    expect(manifestIn(out).split).toMatchObject({ version: 2, seed: "second" });
    for (const set of SETS) expect(txtIds(out, set)).toEqual(again!.ids[set]);
  });

  it("fails clearly and writes nothing when its split expires mid-export (1015)", async () => {
    // Arrange: 20 more splits retire the first from the last 20; 1 s later it has expired.
    const taskId = "export_expired";
    await register(taskId, 10);
    await split(taskId, "first", [5, 3, 2]);
    let retired = false;
    hook = async ({ cursor }) => {
      if (!cursor || retired) return;
      retired = true;
      for (let i = 0; i < 20; i++) await split(taskId, `n${i}`, [3, 3, 3]);
      await new Promise((resolve) => setTimeout(resolve, 2_100));
    };
    const out = join(dir, "expired");

    // Act
    const run = await cli(["export", "--task", taskId, "--out", out, "--limit", "4"]);

    // Assert
    expect(retired).toBe(true);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: split version 1 of task ${taskId} is no longer retained (1015`);
    expect(run.stderr).toContain("nothing was written");
    expect(readdirSync(out)).toEqual([]);
  });

  it("refuses a task never split, and bad usage", async () => {
    // Arrange
    await register("export_unsplit", 3);

    // Act
    const unsplit = await cli(["export", "--task", "export_unsplit", "--out", join(dir, "unsplit")]);
    const noOut = await cli(["export", "--task", "export_unsplit"]);
    const badFormat = await cli(["export", "--task", "export_unsplit", "--out", dir, "--format", "json"]);

    // Assert
    expect(unsplit).toMatchObject({ code: 1, stdout: "" });
    expect(unsplit.stderr).toContain("error: task export_unsplit has never been split: there are no sets to export");
    expect(readdirSync(join(dir, "unsplit"))).toEqual([]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--out <dir>");
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("csv, jsonl, txt");
  });
});
