/**
 * `npm run smoke -- --url <ApiUrl>`: the check after a deploy. Runs the legacy flow against a
 * stage through the typed client — register images of a throwaway task, split them, list each
 * set, delete the images — and checks the sets are disjoint and complete. A non-loopback URL is signed with SigV4
 * and your AWS credentials (or `--token` / TRAINING_SETS_TOKEN sends a Cognito token). Reports each
 * step; exit 0 when all passed, 1 when one failed, 2 on bad usage.
 *
 * The task's images are deleted at the end, whatever failed before (the task item, holding only
 * counts and the splits' records, stays: the API deletes images, not tasks).
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createClient, type ImageInfo, type SetName } from "../client/index.ts";

const USAGE = `usage: npm run smoke -- --url <ApiUrl> [--token <token>] [--images N]

  --url      the stage's base URL (the stack's ApiUrl output; http://127.0.0.1:8000 for npm start)
  --token    a Cognito token (default TRAINING_SETS_TOKEN); without it a non-loopback URL is signed (SigV4)
  --images   images to register, 3–1000 (default 50)`;

export interface SmokeOptions {
  url: string;
  token?: string | undefined;
  images?: number;
  /** Where each step's line goes (default stdout). */
  report?: (line: string) => void;
}

/** Runs the flow; resolves to true when every step passed. */
export async function runSmoke(options: SmokeOptions): Promise<boolean> {
  const report = options.report ?? ((line: string) => process.stdout.write(`${line}\n`));
  const count = options.images ?? 50;
  const api = createClient({ baseUrl: options.url, token: options.token, timeoutMs: 35_000 });
  const taskId = `smoke_${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}_${randomBytes(4).toString("hex")}`;
  const ids = Array.from({ length: count }, (_, i) => `${taskId.slice(-8)}${String(i + 1).padStart(6, "0")}`);
  const [training, verifying] = [Math.max(1, Math.floor(count * 0.7)), Math.floor(count * 0.2)];
  const testing = count - training - verifying - 1; // one image stays in no set
  let failed = false;

  const step = async <T>(name: string, run: () => Promise<T>, check: (value: T) => string | undefined) => {
    const started = performance.now();
    try {
      const value = await run();
      const problem = check(value);
      const ms = Math.round(performance.now() - started);
      report(`${problem ? "FAIL" : "ok  "} ${name} (${ms} ms)${problem ? `: ${problem}` : ""}`);
      if (problem) failed = true;
      return problem ? undefined : value;
    } catch (error) {
      report(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
      failed = true;
      return undefined;
    }
  };

  report(`smoke test of ${api.baseUrl}, throwaway task ${taskId}`);
  const registered = await step(
    `register ${count} images`,
    () =>
      api.registerImages({
        task_id: taskId,
        images: ids.map((id, i) => ({ img_id: id, img_name: `smoke_${i + 1}.jpg` })),
      }),
    (answer) =>
      answer.added === count && answer.total === count ? undefined : `added ${answer.added}, total ${answer.total}`,
  );
  const split =
    registered &&
    (await step(
      `split ${training}/${verifying}/${testing} (training/verifying/testing)`,
      () =>
        api.splitTask({
          task_id: taskId,
          training_count: training,
          verifying_count: verifying,
          testing_count: testing,
        }),
      (answer) =>
        answer.img_ids_set_training?.length === training &&
        answer.img_ids_set_verifying?.length === verifying &&
        answer.img_ids_set_testing?.length === testing &&
        answer.unassigned_count === 1
          ? undefined
          : `sizes ${answer.img_ids_set_training?.length}/${answer.img_ids_set_verifying?.length}/${answer.img_ids_set_testing?.length}, unassigned ${answer.unassigned_count}`,
    ));
  if (split) {
    const lists: Record<SetName, string[] | undefined> = {
      training: split.img_ids_set_training,
      verifying: split.img_ids_set_verifying,
      testing: split.img_ids_set_testing,
    };
    const listed = new Map<SetName, ImageInfo[]>();
    for (const set of ["training", "verifying", "testing"] as const) {
      await step(
        `list ${set}`,
        async () => {
          const images: ImageInfo[] = [];
          for await (const image of api.listSetAll(taskId, set)) images.push(image);
          return images;
        },
        (images) => {
          listed.set(set, images);
          const expected = [...(lists[set] ?? [])].sort();
          const got = images.map((image) => image.img_id).sort();
          return JSON.stringify(got) === JSON.stringify(expected)
            ? undefined
            : `${got.length} images listed, the split put ${expected.length} there`;
        },
      );
    }
    await step(
      "the sets are disjoint and complete",
      async () => [...listed.values()].flat().map((image) => image.img_id),
      (all) => {
        const unique = new Set(all);
        if (unique.size !== all.length) return `${all.length - unique.size} images in two sets`;
        const missing = ids.filter((id) => !unique.has(id)).length;
        return unique.size === count - 1 && missing === 1 ? undefined : `${unique.size} in sets, ${missing} in none`;
      },
    );
  }
  if (registered) {
    await step(
      `clean up: delete the ${count} images`,
      () => api.deleteImages({ task_id: taskId, img_ids: ids }),
      (answer) =>
        answer.deleted === count && answer.total === 0 ? undefined : `deleted ${answer.deleted}, ${answer.total} left`,
    );
  }
  report(failed ? "smoke test FAILED" : "smoke test passed");
  return !failed;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let values: { url?: string; token?: string; images?: string; help?: boolean };
  try {
    values = parseArgs({
      options: {
        url: { type: "string" },
        token: { type: "string" },
        images: { type: "string", default: "50" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const images = Number(values.images);
  if (!values.url || !Number.isInteger(images) || images < 3 || images > 1000) {
    console.error(USAGE);
    process.exit(2);
  }
  const passed = await runSmoke({ url: values.url, token: values.token ?? process.env.TRAINING_SETS_TOKEN, images });
  process.exitCode = passed ? 0 : 1;
}
