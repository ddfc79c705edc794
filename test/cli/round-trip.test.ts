import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../support/http.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "training-sets.js");

let gateway: Awaited<ReturnType<typeof startApi>>;
let dir: string;
beforeAll(async () => {
  gateway = await startApi();
  dir = mkdtempSync(join(tmpdir(), "training-sets-cli-"));
});
afterAll(async () => {
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI as a child process (the bin shim, as `npx training-sets` runs it), against the local
 * gateway through TRAINING_SETS_URL. Asynchronous: the gateway answers from this process meanwhile.
 */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, TRAINING_SETS_URL: gateway.base, ...env }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A CSV field as RFC 4180 writes it: quoted when it holds a comma, quote or line break. */
const field = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** Names that need quoting: commas, quotes, both, a line break; and plain and CJK ones. */
function nameOf(i: number): string {
  switch (i % 6) {
    case 0:
      return `img_${i}.jpg`;
    case 1:
      return `cat, dog ${i}.png`;
    case 2:
      return `he said "hi" ${i}.png`;
    case 3:
      return `"quoted, and comma" ${i}`;
    case 4:
      return `img_拓海_${i}.png`;
    default:
      return `two\nlines ${i}`;
  }
}

const TOTAL = 12_000;
const TASK = "cli_round_trip";
const SET_NAMES = ["training", "verifying", "testing"] as const;

describe("register → split → list and export, 12,000 images", () => {
  it("lists three disjoint sets, complete, in ascending order_id, quoted per RFC 4180, and exports the same", async () => {
    // Arrange: the images' order_ids will follow the file, so image i gets order_id i + 1.
    const ids = Array.from({ length: TOTAL }, (_, i) => `2018070417${String(i).padStart(9, "0")}`);
    const names = new Map(ids.map((id, i) => [id, nameOf(i)]));
    const orderOf = new Map(ids.map((id, i) => [id, i + 1]));
    const csv = `\uFEFFimg_id,img_name,state\r\n${ids.map((id, i) => `${id},${field(nameOf(i))},${i % 3}\r\n`).join("")}`;
    const file = join(dir, "images.csv");
    writeFileSync(file, csv);

    // Act
    const registered = await cli(["register-images", "--task", TASK, "--file", file]);
    const split = await cli(["split-task", "--task", TASK, "--ratios", ".7,.2,.1", "--seed", "round-trip", "--ids"]);
    const [exported, ...listed] = await Promise.all([
      cli(["export", "--task", TASK, "--out", join(dir, "export")]),
      ...SET_NAMES.map((set) => cli(["list-set", "--task", TASK, "--set", set, "--out", join(dir, `${set}.csv`)])),
    ]);

    // Assert: each command succeeded
    expect(registered, registered.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(registered.stdout)).toEqual({
      task_id: TASK,
      added: TOTAL,
      updated: 0,
      unchanged: 0,
      total: TOTAL,
      requests: 12,
    });
    expect(registered.stderr).toContain(`registering: ${TOTAL}/${TOTAL}`);
    expect(split, split.stderr).toMatchObject({ code: 0 });
    const answer = JSON.parse(split.stdout);
    expect(answer).toMatchObject({ code: 0, task_id: TASK, seed: "round-trip" });
    expect(answer.img_ids_set_training).toHaveLength(8400);
    for (const run of listed) expect(run, run.stderr).toMatchObject({ code: 0, stdout: "" });
    expect(listed[0]!.stderr).toContain(`listing training: ${TOTAL}/${TOTAL}`);
    expect(listed[0]!.stderr).toContain(`training: 8400 images written to ${join(dir, "training.csv")}`);
    expect(exported, exported.stderr).toMatchObject({ code: 0, stdout: "" });

    // Assert: the files
    const rowsOf = new Map<string, string[][]>();
    for (const set of SET_NAMES) {
      const text = readFileSync(join(dir, `${set}.csv`), "utf8");
      // RFC 4180: a header row, CRLF after every record, quotes only where needed, quotes doubled.
      expect(text.startsWith("img_id,img_name,state,order_id,label,group\r\n")).toBe(true);
      // The export holds the very same rows.
      expect(readFileSync(join(dir, "export", `${set}.csv`), "utf8")).toBe(text);
      expect(text.endsWith("\r\n")).toBe(true);
      const rows = parse(text, { bom: false, relax_quotes: false, relax_column_count: false }) as string[][];
      rowsOf.set(set, rows.slice(1));
      for (const row of rows.slice(1)) {
        const [id, name] = row as [string, string, string, string, string, string];
        expect(name).toBe(names.get(id));
        const raw = `${id},${field(name)},`;
        if (!text.includes(raw)) throw new Error(`${set}.csv: ${JSON.stringify(raw)} not written as RFC 4180 says`);
      }
    }
    const all = [...rowsOf.values()].flat();
    expect(rowsOf.get("training")).toHaveLength(8400);
    expect(rowsOf.get("verifying")).toHaveLength(2400);
    expect(rowsOf.get("testing")).toHaveLength(1200);
    // disjoint and complete
    expect(new Set(all.map((row) => row[0])).size).toBe(TOTAL);
    expect(new Set(all.map((row) => row[0]))).toEqual(new Set(ids));
    // each set as the split answered it, in ascending order_id, which follows the file
    expect(
      rowsOf
        .get("training")!
        .map((row) => row[0])
        .sort(),
    ).toEqual([...answer.img_ids_set_training].sort());
    for (const rows of rowsOf.values()) {
      const orders = rows.map((row) => Number(row[3]));
      expect(orders).toEqual([...orders].sort((a, b) => a - b));
      expect(rows.filter((row) => Number(row[3]) !== orderOf.get(row[0]!))).toEqual([]);
      expect(rows.filter((row) => row[2] !== String((Number(row[3]) - 1) % 3))).toEqual([]);
    }
    // nothing left behind but the files (the temporary ones were renamed)
    expect(readdirSync(dir).sort()).toEqual(["export", "images.csv", "testing.csv", "training.csv", "verifying.csv"]);
    expect(readdirSync(join(dir, "export")).sort()).toEqual([
      "manifest.json",
      "testing.csv",
      "training.csv",
      "verifying.csv",
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, "export", "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({
      task_id: TASK,
      split: {
        version: answer.version,
        seed: "round-trip",
        achieved_sizes: { training: 8400, verifying: 2400, testing: 1200 },
      },
      sets: {
        training: { file: "training.csv", count: 8400 },
        verifying: { file: "verifying.csv", count: 2400 },
        testing: { file: "testing.csv", count: 1200 },
      },
      unassigned_count: 0,
    });
  }, 180_000);

  it("a rerun of a registration is safe and reports the images unchanged; json and txt list the same set", async () => {
    // Arrange
    const file = join(dir, "small.json");
    writeFileSync(
      file,
      JSON.stringify([
        { img_id: "s1", img_name: "a.png", label: "cat" },
        { img_id: "s2", img_name: "b.png", state: 1 },
        { img_id: "s3", img_name: "c, d.png" },
      ]),
    );
    await cli(["register-images", "--task", "cli_small", "--file", file]);

    // Act
    const rerun = await cli(["register-images", "--task", "cli_small", "--file", file]);
    await cli(["split-task", "--task", "cli_small", "--counts", "3,0,0"]);
    const json = await cli(["list-set", "--task", "cli_small", "--set", "training", "--format", "json"]);
    const txt = await cli(["list-set", "--task", "cli_small", "--set", "training", "--format", "txt"]);
    const empty = await cli(["list-set", "--task", "cli_small", "--set", "testing"]);
    const summary = await cli(["list-set", "--task", "cli_small"]);

    // Assert
    expect(rerun, rerun.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(rerun.stdout)).toMatchObject({ added: 0, updated: 0, unchanged: 3, total: 3 });
    expect(JSON.parse(json.stdout)).toEqual([
      { img_name: "a.png", img_id: "s1", state: 0, order_id: 1, label: "cat", group: null },
      { img_name: "b.png", img_id: "s2", state: 1, order_id: 2, label: null, group: null },
      { img_name: "c, d.png", img_id: "s3", state: 0, order_id: 3, label: null, group: null },
    ]);
    expect(txt.stdout).toBe("s1\ns2\ns3\n");
    expect(empty).toMatchObject({ code: 0, stdout: "img_id,img_name,state,order_id,label,group\r\n" });
    expect(JSON.parse(summary.stdout)).toMatchObject({ code: 0, task_id: "cli_small", image_count: 3 });
  });
});

describe("a set re-split while it is listed (1015)", () => {
  it("starts again from the first page and keeps nothing of the first attempt", async () => {
    // Arrange: a stand-in API whose second page of images answers 1015 once.
    const image = (id: string, order: number) => ({
      img_name: `${id}.png`,
      img_id: id,
      state: 0,
      order_id: order,
      label: null,
      group: null,
      set_type_id: 0,
    });
    const page = (list: unknown[], next?: string) => ({
      code: 0,
      msg: "任务图像查询成功",
      task_id: "t",
      img_info_list: list,
      ...(next ? { next_cursor: next } : {}),
    });
    let gone = false;
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://x");
      let status = 200;
      let body: unknown;
      if (url.pathname === "/training/tasks/sets") {
        body = { code: 0, task_id: "t", image_count: 2, split: { version: 1 }, history: [] };
      } else if (!url.searchParams.has("cursor")) {
        body = page([image(gone ? "new1" : "old1", 1)], "c1");
      } else if (!gone) {
        gone = true;
        status = 409;
        body = { code: 1015, msg: "集合已重新划分，请从第一页重新读取" };
      } else {
        body = page([image("new2", 2)]);
      }
      response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      response.end(JSON.stringify(body));
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Act
    const run = await cli(["--url", url, "list-set", "--task", "t", "--set", "training", "--format", "txt"]).finally(
      () => new Promise((closed) => server.close(closed)),
    );

    // Assert
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: "new1\nnew2\n" });
    expect(run.stderr).toContain("starting over");
  });
});

describe("exit codes", () => {
  it("2 for bad usage, saying what is wrong", async () => {
    // Act
    const runs = await Promise.all([
      cli([]),
      cli(["frobnicate"]),
      cli(["split-task", "--task", "t"]),
      cli(["split-task", "--task", "t", "--counts", "7,2"]),
      cli(["split-task", "--task", "t", "--counts", "7,2,1", "--ratios", ".7,.2,.1"]),
      cli(["list-set", "--task", "t", "--set", "validation"]),
      cli(["register-images", "--task", "t", "--file", join(dir, "missing.csv")]),
      cli(["list-set", "--task", "t", "--out", join(dir, "summary.csv")]),
    ]);
    const help = await cli(["split-task", "--help"]);
    // `npx training-sets` finds the package's own bin entry (package.json "bin") in this repository.
    const npx = await new Promise<Run>((resolve) =>
      execFile("npx", ["--no", "--", "training-sets", "--help"], { cwd: ROOT }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      ),
    );

    // Assert
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(runs[2]!.stderr).toContain("give --counts or --ratios");
    expect(runs[3]!.stderr).toContain("training,verifying,testing");
    expect(runs[5]!.stderr).toContain("training, verifying, testing");
    expect(runs[6]!.stderr).toContain("cannot read");
    expect(runs[7]!.stderr).toContain(
      "--out writes a listing: give --set (without it, list-set prints the task's summary)",
    );
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("order training, verifying, testing");
    expect(help.stdout).toContain("1 testing, 2 verifying");
    expect(npx, npx.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining("Usage: training-sets") });
  });

  it("1 when the API answers an error, with its code, msg and detail on stderr", async () => {
    // Arrange
    const three = join(dir, "three.json");
    writeFileSync(three, JSON.stringify(["e1", "e2", "e3"].map((id) => ({ img_id: id, img_name: `${id}.png` }))));
    await cli(["register-images", "--task", "cli_err", "--file", three]);

    // Act
    const tooMany = await cli(["split-task", "--task", "cli_err", "--counts", "3,1,0"]);
    const badCsv = join(dir, "bad.csv");
    writeFileSync(badCsv, "img_id,img_name\nok,\n");
    const badName = await cli(["register-images", "--task", "cli_err", "--file", badCsv]);

    // Assert
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toContain("error 1007 (HTTP 400): 三个集合的图像个数之和 4 超过了任务下的图像总数 3");
    expect(tooMany.stderr).toMatch(/detail: \S/);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain("error 1011 (HTTP 400): 图像数据格式错误: images[0].img_name");
    expect(badName.stderr).toMatch(/detail: \S/);
  });

  it("1 when the API cannot be reached (--url wins over TRAINING_SETS_URL)", async () => {
    // Act
    const run = await cli(["--url", "http://127.0.0.1:9", "list-set", "--task", "t"], { TRAINING_SETS_URL: "x" });

    // Assert
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no answer from the API: GET http://127.0.0.1:9/training/tasks/sets");
  });
});
