import { randomBytes } from "node:crypto";
import { describeError, ServiceError } from "./errors.ts";
import { log } from "./log.ts";
import { countRefusedSplit, recordSplit } from "./metrics.ts";
import { HISTORY_LENGTH, type SplitRecord, type SplitResult, type SplitSpec } from "./model.ts";
import { type PlanImage, planSplit, type SplitPlan } from "./plan/index.ts";
import { drawSeed } from "./shuffle.ts";
import type { Store, StoredImage, TaskState } from "./store/index.ts";
import { chunkCount, packSnapshot } from "./store/snapshot.ts";

const noImages = (taskId: string) =>
  new ServiceError(
    1003,
    { task_id: taskId },
    { detail: `task ${taskId} has no images: register them with POST /training/tasks/images` },
  );

/** Labels kept in a recorded histogram, so the task item stays far below DynamoDB's 400 KB. */
const RECORDED_LABELS = 200;

/**
 * One split (SPEC "Storage"): read the task and every image (strongly consistent), plan, write the
 * plan as a new immutable snapshot, publish it with one conditional write of the task item, then
 * expire what no task item points to any more. A dry run stops after planning. Nothing here waits
 * for or blocks anyone: two splits of one task race to publish, the loser gets 1008.
 */
export async function splitTask(store: Store, spec: SplitSpec, deadline?: number): Promise<SplitResult> {
  const { taskId } = spec;
  const by = deadline ?? Date.now() + store.config.budgetMs;
  const started = performance.now();
  // Progress of a long split, one line a phase (LOG_LEVEL=debug; npm start shows them).
  const phase = (name: string, fields: Record<string, unknown> = {}) =>
    log("debug", "split progress", {
      task_id: taskId,
      phase: name,
      ms: Math.round(performance.now() - started),
      ...fields,
    });
  const task = await store.readTask(taskId, by);
  if (!task?.imageCount) throw noImages(taskId);
  if (spec.counts) {
    const sum = spec.counts[0] + spec.counts[1] + spec.counts[2];
    if (sum > task.imageCount) {
      throw new ServiceError(
        1007,
        { sum, total: task.imageCount },
        {
          detail: `training_count + verifying_count + testing_count = ${sum}, more than the ${task.imageCount} images of task ${taskId}`,
        },
      );
    }
  }
  const images = await store.readImages(taskId, by);
  if (images.length === 0) throw noImages(taskId);
  phase("read", { images: images.length });
  const seed = spec.seed ?? drawSeed();
  const plan = planSplit(await planImages(store, taskId, task, images, by), spec, seed);
  const planned = task.live?.version ?? 0;
  phase("planned");
  if (spec.options?.dryRun) return resultOf(taskId, plan, seed, planned, true);

  const n = images.reduce((max, image) => Math.max(max, image.orderId), 0);
  const ref = { version: planned + 1, token: randomBytes(6).toString("hex"), n, chunks: chunkCount(n) };
  const orderIds = Float64Array.from(images, (image) => image.orderId);
  await store.writeSnapshot(taskId, ref, packSnapshot(orderIds, plan.setOf, n), by);
  phase("written", { chunks: ref.chunks });

  const record = recordOf(spec, plan, seed, ref);
  const outcome = await store.publish(taskId, planned, record, task.history, by);
  if (!outcome.published) {
    await store.expireSnapshot(taskId, ref, by).catch(() => undefined);
    countRefusedSplit();
    throw new ServiceError(
      1008,
      { task_id: taskId },
      { detail: `split version ${outcome.winner} was published while this split (planned on version ${planned}) ran` },
    );
  }
  phase("published", { version: ref.version });
  recordSplit(performance.now() - started, images.length);
  const retained = [record, ...task.history].slice(0, HISTORY_LENGTH);
  // Housekeeping: a failure here costs storage, never correctness, so it must not fail the split.
  await store.expireUnreferenced(taskId, ref.version, retained, by).catch((error: unknown) => {
    log("warn", "expiring old snapshots failed", { task_id: taskId, error: describeError(error) });
  });
  return resultOf(taskId, plan, seed, ref.version, false);
}

/** The images as the planner takes them, each with its set in the live split (keep, lock_testing and `moved` need it). */
async function planImages(
  store: Store,
  taskId: string,
  task: TaskState,
  images: readonly StoredImage[],
  deadline: number,
): Promise<PlanImage[]> {
  const live = task.live;
  const current = live ? await store.readAssignment(taskId, live, deadline) : undefined;
  return images.map((image) => {
    const setType = current && image.orderId <= (live?.n ?? 0) ? (current[image.orderId] as number) : -1;
    return setType >= 0 ? { ...image, current: setType as 0 | 1 | 2 } : image;
  });
}

function recordOf(
  spec: SplitSpec,
  plan: SplitPlan,
  seed: string,
  ref: Pick<SplitRecord, "version" | "token" | "n" | "chunks">,
): SplitRecord {
  const { dryRun: _never, ...options } = spec.options ?? {};
  return {
    ...ref,
    seed,
    algorithm: plan.algorithm,
    splitAt: new Date().toISOString(),
    spec: {
      ...(spec.counts ? { counts: spec.counts } : { ratios: spec.ratios }),
      ...(spec.options ? { options: { ...options, dryRun: false } } : {}),
    } as SplitRecord["spec"],
    requested: plan.requested,
    achieved: plan.sizes,
    unassigned: plan.unassignedCount,
    moved: plan.moved,
    leakedGroups: plan.leakedGroups.slice(0, RECORDED_LABELS),
    labelCounts: plan.labelCounts.slice(0, RECORDED_LABELS),
  };
}

function resultOf(taskId: string, plan: SplitPlan, seed: string, version: number, dryRun: boolean): SplitResult {
  const { drawn, unassignedCount, sizes, setOf: _setOf, ...account } = plan;
  return { taskId, drawn, unassignedCount, seed, version, details: { ...account, achieved: sizes, dryRun } };
}
