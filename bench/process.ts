/**
 * The bench's "process" section: what one function process holds and how fast it starts. A split
 * of a million images (plain, and labelled and grouped) and the plan alone each run in a child
 * process of their own, so a peak RSS is theirs and not the bench's, started with the V8 heap
 * settings Lambda gives a function of the stack's memory size.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { BUNDLING } from "../infra/bundling.ts";
import { ROUTES } from "../lib/routes.ts";
import { PROJECT_ROOT } from "../scripts/project-root.ts";
import { type Measure, median, TAGGED } from "./support.ts";

/** The split function's memory (infra/service-function.ts), and the peak RSS a split may reach: half of it. */
const FUNCTION_MEMORY_MB = 1024;
const RSS_TARGET_MB = FUNCTION_MEMORY_MB / 2;

/**
 * The V8 heap flags Lambda's Node.js runtime starts a function with (its bootstrap script): a
 * tenth of the memory for the young generation, in two semi-spaces, the rest for the old one.
 */
const lambdaHeapFlags = (memoryMb: number): string[] => {
  const young = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(young / 2)}`, `--max-old-space-size=${memoryMb - young}`];
};

const sizeName = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Runs a bench script in a child process with Lambda's heap flags; its last line of output is JSON. */
function child<T>(script: string, args: readonly string[]): T {
  const out = execFileSync(
    process.execPath,
    [...lambdaHeapFlags(FUNCTION_MEMORY_MB), "--import", "tsx", join(PROJECT_ROOT, "bench", script), ...args],
    { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split("\n").at(-1) as string) as T;
}

/**
 * The peak RSS of one split of the seeded task `taskId` of `n` images (70 / 10 / 20), on DynamoDB
 * Local without limits; `tagged`: its images have labels and groups, split with stratify_by "label"
 * and group_by "group"; `replay`: no split, the live split's answer rebuilt with its id lists (an
 * Idempotency-Key retry of a split whose answer was too big to keep).
 */
export function benchSplitRss(
  endpoint: string,
  table: string,
  taskId: string,
  n: number,
  mode: "plain" | "tagged" | "replay",
): Measure {
  const what =
    mode === "tagged"
      ? `split ${sizeName(n)} images with ${TAGGED.labels.toLocaleString("en")} labels and ${TAGGED.groups.toLocaleString("en")} groups (stratify_by + group_by)`
      : mode === "replay"
        ? `replay of a ${sizeName(n)}-image split's answer (ids rebuilt in order)`
        : `split ${sizeName(n)} images`;
  console.error(`${what} in its own process`);
  const result = child<{ ms: number; cpuMs: number; baselineRssMb: number; peakRssMb: number }>("split-1m.ts", [
    endpoint,
    table,
    taskId,
    ...(mode === "plain" ? [] : [mode]),
  ]);
  return {
    name: `${what}: peak RSS`,
    value: result.peakRssMb,
    unit: "MB",
    target: { max: RSS_TARGET_MB },
    note: `own process with Lambda's heap flags for ${FUNCTION_MEMORY_MB} MB (${lambdaHeapFlags(FUNCTION_MEMORY_MB).join(" ")}), DynamoDB Local without limits; ${seconds(result.ms)}, ${seconds(result.cpuMs)} of CPU; ${result.baselineRssMb} MB before`,
  };
}

/** The plan alone of `n` images given as the store reads them (plain, and labelled and grouped): time and peak RSS. */
export function benchPlan(n: number): Measure[] {
  const rows: Measure[] = [];
  for (const tagged of [false, true]) {
    const what = tagged
      ? `plan ${sizeName(n)} labelled, grouped images (stratify_by + group_by)`
      : `plan ${sizeName(n)} images`;
    const result = child<{ ms: number; baselineRssMb: number; peakRssMb: number }>("plan-1m.ts", [
      String(n),
      ...(tagged ? ["tagged"] : []),
    ]);
    rows.push({ name: `${what}: time`, value: result.ms, unit: "ms" });
    rows.push({
      name: `${what}: peak RSS`,
      value: result.peakRssMb,
      unit: "MB",
      note: `own process; ${result.baselineRssMb} MB before planning (the images as columns)`,
    });
  }
  return rows;
}

/** Each route's bundle, built as the stack builds it: size and cold import time. */
export async function benchBundles(): Promise<Measure[]> {
  // Inside the project, so the bundles resolve @aws-sdk/* from node_modules as Lambda's runtime provides it.
  const cache = join(PROJECT_ROOT, "node_modules/.cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, "bench-bundles-"));
  const rows: Measure[] = [];
  try {
    for (const route of ROUTES) {
      const outfile = join(dir, `${route.name}.mjs`);
      // Exactly as the stack bundles for Lambda (infra/bundling.ts).
      await build({
        entryPoints: [join(PROJECT_ROOT, route.entry)],
        outfile,
        bundle: true,
        platform: "node",
        format: BUNDLING.format,
        target: BUNDLING.target,
        minify: BUNDLING.minify,
        sourcemap: BUNDLING.sourceMap,
        external: [...BUNDLING.externalModules],
        mainFields: [...BUNDLING.mainFields],
        banner: { js: BUNDLING.banner },
        logLevel: "silent",
      });
      const bytes = statSync(outfile).size;
      const gzipped = gzipSync(readFileSync(outfile)).length;
      const probe = `const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`;
      const imports = Array.from({ length: 3 }, () =>
        Number(
          execFileSync(process.execPath, ["--input-type=module", "-e", probe], {
            cwd: PROJECT_ROOT,
            encoding: "utf8",
            env: { ...process.env, TABLE_NAME: "bench", AWS_REGION: "us-east-1" },
          }),
        ),
      );
      rows.push({
        name: `${route.name} bundle: cold import`,
        value: median(imports),
        unit: "ms",
        note: `${(bytes / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped, SDK from the runtime`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
