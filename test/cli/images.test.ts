import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandInImage, standInImages, startImagesStandIn } from "../support/images-stand-in.ts";

// `image`, `images` and `delete` as child processes of the bin shim, against a stand-in server
// answering the documented shapes (test/support/images-stand-in.ts checks each of its answers
// against the OpenAPI document); the real routes are tested on DynamoDB Local by the handler tests.
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "training-sets.js");

let dir: string;
let server: Awaited<ReturnType<typeof startImagesStandIn>> | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "training-sets-cli-images-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  expect(server?.problems ?? []).toEqual([]);
  await server?.close();
  server = undefined;
});

async function standIn(tasks: Record<string, StandInImage[]>) {
  server = await startImagesStandIn(tasks);
  return server;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, TRAINING_SETS_URL: server?.base ?? "http://127.0.0.1:9" },
        maxBuffer: 64 << 20,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("image", () => {
  it("prints the image as JSON; an unknown one exits 1 with 1026", async () => {
    // Arrange
    await standIn({ "42": standInImages(3) });

    // Act
    const found = await cli(["get-images", "--task", "42", "--img", "img0002"]);
    const missing = await cli(["get-images", "--task", "42", "--img", "img9999"]);

    // Assert
    expect(found, found.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(found.stdout)).toEqual({
      img_id: "img0002",
      img_name: 'cat, "sitting" 2.jpg',
      state: 1,
      order_id: 2,
      label: null,
      group: null,
      set_type_id: 1,
    });
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toContain("error 1026 (HTTP 404): 任务 42 下没有图像 img9999");
  });
});

describe("images", () => {
  it("writes every image of the task, every page, as RFC 4180 CSV with the set of each (null: an empty cell)", async () => {
    // Arrange
    const images = standInImages(25);
    await standIn({ "42": images });
    const out = join(dir, "images.csv");

    // Act
    const run = await cli(["get-images", "--task", "42", "--limit", "10", "--out", out]);

    // Assert
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: "" });
    expect(run.stderr).toContain("listing images: 25/25");
    expect(run.stderr).toContain(`images: 25 images written to ${out}`);
    const text = readFileSync(out, "utf8");
    expect(text.startsWith("img_id,img_name,state,order_id,label,group,set_type_id\r\n")).toBe(true);
    expect(text).toContain('img0002,"cat, ""sitting"" 2.jpg",1,2,,,1\r\n');
    expect(text).toContain("img0003,img_3.jpg,2,3,cat,,\r\n");
    const rows = parse(text) as string[][];
    expect(rows.slice(1)).toEqual(
      images.map((image) => [
        image.img_id,
        image.img_name,
        String(image.state),
        String(image.order_id),
        image.label ?? "",
        image.group ?? "",
        image.set_type_id === null ? "" : String(image.set_type_id),
      ]),
    );
    expect(server!.seen.filter((request) => request.url.startsWith("/training/tasks/images"))).toHaveLength(3);
    expect(readdirSync(dir)).toEqual(["images.csv"]);
  });

  it("writes json (one array of the API's image objects) and txt (one img_id a line) to stdout", async () => {
    // Arrange
    const images = standInImages(3);
    await standIn({ "42": images });

    // Act
    const json = await cli(["get-images", "--task", "42", "--format", "json"]);
    const txt = await cli(["get-images", "--task", "42", "--format", "txt", "--limit", "1"]);

    // Assert
    expect(json, json.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(json.stdout)).toEqual(images);
    expect(txt).toMatchObject({ code: 0, stdout: "img0001\nimg0002\nimg0003\n" });
  });

  it("a task without images exits 1 with 1003, leaving no file", async () => {
    // Arrange
    await standIn({});
    const out = join(dir, "none.csv");

    // Act
    const run = await cli(["get-images", "--task", "none", "--out", out]);

    // Assert
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error 1003 (HTTP 404): 任务id为 none 的任务下没有图像");
    expect(readdirSync(dir)).not.toContain("none.csv");
  });
});

describe("delete", () => {
  it("deletes --ids and prints the totals; a rerun counts them as already deleted", async () => {
    // Arrange
    await standIn({ "42": standInImages(5) });

    // Act
    const first = await cli(["delete-images", "--task", "42", "--ids", "img0001, img0003,ghost"]);
    const again = await cli(["delete-images", "--task", "42", "--ids", "img0001,img0003"]);
    const listed = await cli(["get-images", "--task", "42", "--format", "txt"]);

    // Assert
    expect(first, first.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(first.stdout)).toEqual({
      task_id: "42",
      deleted: 2,
      already_deleted: 0,
      not_found: ["ghost"],
      total: 3,
      requests: 1,
    });
    expect(JSON.parse(again.stdout)).toMatchObject({ deleted: 0, already_deleted: 2, not_found: [], total: 3 });
    expect(listed.stdout).toBe("img0002\nimg0004\nimg0005\n");
  });

  it("sends a --file of 2,500 ids in requests of 1000, in file order, and sums the totals", async () => {
    // Arrange
    const images = standInImages(3000);
    await standIn({ "42": images });
    const ids = [...images.slice(0, 2499).map((image) => image.img_id), "ghost"];
    const file = join(dir, "ids.txt");
    writeFileSync(file, `\uFEFF${ids.join("\r\n")}\r\n\r\n`);

    // Act
    const run = await cli(["delete-images", "--task", "42", "--file", file]);

    // Assert
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(run.stdout)).toEqual({
      task_id: "42",
      deleted: 2499,
      already_deleted: 0,
      not_found: ["ghost"],
      total: 501,
      requests: 3,
    });
    const sent = server!.seen.filter((request) => request.method === "DELETE");
    expect(sent.map((request) => (request.body as { img_ids: string[] }).img_ids.length)).toEqual([1000, 1000, 500]);
    expect(sent.flatMap((request) => (request.body as { img_ids: string[] }).img_ids)).toEqual(ids);
    expect(run.stderr).toContain("deleting: 2500/2500");
    rmSync(file);
  });

  it("exits 1 on the API's refusal, saying which ids were deleted before it", async () => {
    // Arrange
    await standIn({ "42": standInImages(1500) });
    const file = join(dir, "bad.txt");
    writeFileSync(file, [...standInImages(1000).map((image) => image.img_id), "not/an/id"].join("\n"));

    // Act
    const run = await cli(["delete-images", "--task", "42", "--file", file]);

    // Assert
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error 1011 (HTTP 400): 图像数据格式错误: img_ids[0]");
    expect(run.stderr).toContain("the request with ids 1001–1001 failed; ids 1–1000 are deleted");
    rmSync(file);
  });
});

describe("usage", () => {
  it("exits 2 for bad usage, saying what is wrong", async () => {
    // Arrange
    const twice = join(dir, "twice.txt");
    writeFileSync(twice, "a\nb\na\n");

    // Act
    const runs = await Promise.all([
      cli(["get-images", "--task", "42", "--img", "img0001", "--format", "json", "--limit", "5"]),
      cli(["get-images", "--task", "42", "--format", "xml"]),
      cli(["delete-images", "--task", "42"]),
      cli(["delete-images", "--task", "42", "--ids", "a", "--file", twice]),
      cli(["delete-images", "--task", "42", "--ids", "a,,b"]),
      cli(["delete-images", "--task", "42", "--file", twice]),
      cli(["delete-images", "--task", "42", "--file", join(dir, "missing.txt")]),
    ]);
    rmSync(twice);

    // Assert
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(runs[0]!.stderr).toContain(
      "--format, --limit write a listing: leave out --img (with it, get-images prints that one image)",
    );
    expect(runs[1]!.stderr).toContain("csv, json, jsonl, txt");
    expect(runs[2]!.stderr).toContain("give --ids or --file");
    expect(runs[3]!.stderr).toContain("cannot be used with option");
    expect(runs[4]!.stderr).toContain("--ids: expected img_ids separated by commas");
    expect(runs[5]!.stderr).toContain("img_id a appears twice (1 and 3)");
    expect(runs[6]!.stderr).toContain("cannot read");
  });
});
