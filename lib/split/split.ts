import { randomBytes } from "node:crypto";
import { capList } from "../capped.ts";
import { describeError, ServiceError } from "../errors.ts";
import { log } from "../log.ts";
import { countRefusedSplit, recordSplit } from "../metrics.ts";
import {
  HISTORY_LENGTH,
  SET_TYPES,
  type SetType,
  type SplitAccount,
  type SplitRecord,
  type SplitRef,
  type SplitResult,
  type SplitSpec,
  TESTING,
  TRAINING,
  VERIFYING,
} from "../model.ts";
import type { PublishedSplit, PublishOutcome, SnapshotRef, Store, StoredImages, TaskState } from "../store/index.ts";
import { chunkCount, packSnapshot } from "../store/snapshot.ts";
import { plannedDigest } from "./digest.ts";
import { permutation } from "./plan/draw.ts";
import { type PlanColumns, planSplit, type SplitPlan } from "./plan/index.ts";
import { drawSeed } from "./shuffle.ts";

const noImages = (taskId: string) =>
  new ServiceError(
    1003,
    { task_id: taskId },
    { detail: `task ${taskId} has no images: register them with POST /training/tasks/images` },
  );

/** What the caller of a split may do at its one decisive moment. */
export interface SplitHooks {
  /**
   * Runs once the snapshot is written, before the publish, with the split's version and token (an
   * Idempotency-Key record keeps them, so a retry can learn the outcome). When it fails, the split
   * stops unpublished.
   */
  beforePublish?: (ref: PublishedSplit) => Promise<void>;
}

/**
 * One split: read the task and every image (strongly consistent), plan, write the split's record
 * and its plan as a new immutable snapshot, publish it with one conditional write of the task
 * item, then expire what no task item points to any more. A dry run stops after planning. Nothing
 * here waits for or blocks anyone: two splits of one task race to publish, the loser gets 1008.
 * Every answer says only what happened: 200 published; 1008 not; a 503 says whether the split
 * may have been published.
 */
export async function splitTask(
  store: Store,
  spec: SplitSpec,
  deadline?: number,
  hooks: SplitHooks = {},
): Promise<SplitResult> {
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
  const images = await store.readImageColumns(taskId, by);
  if (images.ids.length === 0) throw noImages(taskId);
  phase("read", { images: images.ids.length });
  const seed = spec.seed ?? drawSeed();
  const plan = planSplit(await planImages(store, taskId, task, images, by), spec, seed);
  const planned = task.live?.version ?? 0;
  phase("planned");
  if (spec.options?.dryRun) return resultOf(taskId, plan, seed, planned, true);

  const n = images.orderIds.reduce((max, orderId) => Math.max(max, orderId), 0);
  const ref = { version: planned + 1, token: randomBytes(6).toString("hex"), n, chunks: chunkCount(n) };
  const record = recordOf(spec, plan, seed, ref, plannedDigest(images.ids));
  try {
    await store.writeSnapshot(taskId, record, packSnapshot(images.orderIds, plan.setOf, n), by);
    phase("written", { chunks: ref.chunks });
    await hooks.beforePublish?.(ref);
  } catch (error) {
    // Never published, and now never will be.
    await store.expireSnapshot(taskId, ref, by).catch(() => undefined);
    throw error;
  }

  const outcome = await store.publish(taskId, planned, record, task.published, by);
  if (outcome.outcome !== "published") throw await unpublished(store, taskId, planned, ref, outcome, by);
  phase("published", { version: ref.version });
  recordSplit(performance.now() - started, images.ids.length);
  const retained = [ref, ...task.published].slice(0, HISTORY_LENGTH);
  // Housekeeping: a failure here costs storage, never correctness, so it must not fail the split.
  await store.expireUnreferenced(taskId, ref.version, retained, by).catch((error: unknown) => {
    log("warn", "expiring old snapshots failed", { task_id: taskId, error: describeError(error) });
  });
  return resultOf(taskId, plan, seed, ref.version, false);
}

/**
 * The answer to a publish that did not succeed: 1008 when another split took the version; 503
 * when storage refused the publish until the deadline (not published, safe to send again); 503
 * whose detail says it may have been published when the outcome could not be learned. Only a
 * snapshot known not to be live is expired.
 */
async function unpublished(
  store: Store,
  taskId: string,
  planned: number,
  ref: SnapshotRef,
  outcome: Exclude<PublishOutcome, { outcome: "published" }>,
  deadline: number,
): Promise<ServiceError> {
  if (outcome.outcome === "unknown") {
    return new ServiceError(
      1500,
      {},
      {
        status: 503,
        retryAfter: 1,
        cause: outcome.cause,
        outcome: "unknown",
        detail: `storage did not answer in time: split version ${ref.version} may have been published; the task's summary (GET /training/tasks/sets?task_id=${taskId}) shows its live version, and a retry with the same Idempotency-Key replays it if it was`,
      },
    );
  }
  await store.expireSnapshot(taskId, ref, deadline).catch(() => undefined);
  if (outcome.outcome === "lost") {
    countRefusedSplit();
    return new ServiceError(
      1008,
      { task_id: taskId },
      {
        outcome: "not-published",
        detail: `split version ${outcome.winner} was published while this split (planned on version ${planned}) ran`,
      },
    );
  }
  return new ServiceError(
    1500,
    {},
    {
      status: 503,
      retryAfter: 1,
      cause: outcome.cause,
      outcome: "not-published",
      detail: "storage refused the publish until the deadline: the split was not published, sending it again is safe",
    },
  );
}

/** The images as the planner takes them, with each one's set in the live split (keep, lock_testing and `moved` need it). */
async function planImages(
  store: Store,
  taskId: string,
  task: TaskState,
  images: StoredImages,
  deadline: number,
): Promise<PlanColumns> {
  const live = task.live;
  if (!live) return images;
  const assignment = await store.readAssignment(taskId, live, deadline);
  const current = Int8Array.from(images.orderIds, (orderId) =>
    orderId <= live.n ? (assignment[orderId] as number) : -1,
  );
  return { ...images, current };
}

/** The planner's account with its lists capped, as answers and records carry it. */
const accountOf = (plan: SplitPlan, dryRun: boolean): SplitAccount => {
  const { drawn: _drawn, unassignedCount: _unassigned, sizes, setOf: _setOf, ...account } = plan;
  return {
    ...account,
    achieved: sizes,
    dryRun,
    labelCounts: capList(plan.labelCounts),
    rareLabels: capList(plan.rareLabels),
    leakedGroups: capList(plan.leakedGroups),
  };
};

function recordOf(spec: SplitSpec, plan: SplitPlan, seed: string, ref: SplitRef, planned: string): SplitRecord {
  const { dryRun: _never, ...options } = spec.options ?? {};
  const { dryRun: _planned, ...account } = accountOf(plan, false);
  return {
    ...ref,
    ...account,
    seed,
    splitAt: new Date().toISOString(),
    spec: {
      ...(spec.counts ? { counts: spec.counts } : { ratios: spec.ratios }),
      ...(spec.options ? { options: { ...options, dryRun: false } } : {}),
    } as SplitRecord["spec"],
    unassigned: plan.unassignedCount,
    planned,
  };
}

function resultOf(taskId: string, plan: SplitPlan, seed: string, version: number, dryRun: boolean): SplitResult {
  return {
    taskId,
    drawn: plan.drawn,
    sizes: plan.sizes,
    unassignedCount: plan.unassignedCount,
    seed,
    version,
    details: accountOf(plan, dryRun),
  };
}

/**
 * The result of a published split, rebuilt from its record and snapshot for a retry whose first
 * answer was lost: the id lists come in the first answer's order when the images with order_ids up
 * to its N are exactly those it planned over (its digest), else the answer has its set sizes only.
 */
export async function publishedResult(
  store: Store,
  taskId: string,
  record: SplitRecord,
  deadline?: number,
): Promise<SplitResult> {
  const drawn = await redraw(store, taskId, record, deadline);
  const {
    version,
    token: _token,
    n: _n,
    chunks: _chunks,
    seed,
    splitAt: _at,
    spec: _spec,
    unassigned,
    planned: _planned,
    ...account
  } = record;
  return {
    taskId,
    drawn: drawn ?? { [TRAINING]: [], [TESTING]: [], [VERIFYING]: [] },
    sizes: record.achieved,
    ...(drawn ? {} : { idsLost: true as const }),
    unassignedCount: unassigned,
    seed,
    version,
    details: { ...account, dryRun: false },
  };
}

/** Algorithms whose every set is drawn in the order of `permutation(ids, seed)` (lib/plan). */
const PERMUTATION_ORDERED = new Set(["v1"]);

/**
 * The id lists of a split exactly as its answer listed them, or undefined when that cannot be
 * known any more. The snapshot says which set each order_id went to; the order within a set is
 * the seeded permutation of the images the split planned over, provided the images with order_ids
 * up to its N are still exactly those (the digest), and its snapshot is still there.
 */
async function redraw(
  store: Store,
  taskId: string,
  record: SplitRecord,
  deadline: number | undefined,
): Promise<Record<SetType, string[]> | undefined> {
  if (!PERMUTATION_ORDERED.has(record.algorithm)) return undefined;
  // As columns, like the split read them: a replay of a million images holds no object per image.
  const read = await store.readImageColumns(taskId, deadline);
  const planned = (_: unknown, i: number) => (read.orderIds[i] as number) <= record.n;
  const ids = read.ids.filter(planned);
  const orderIds = read.orderIds.filter(planned);
  if (plannedDigest(ids) !== record.planned) return undefined;
  let assignment: Int8Array;
  try {
    assignment = await store.readAssignment(taskId, record, deadline);
  } catch (error) {
    if (error instanceof ServiceError && error.code === 1015) return undefined;
    throw error;
  }
  const drawn: Record<SetType, string[]> = { [TRAINING]: [], [TESTING]: [], [VERIFYING]: [] };
  for (const i of permutation(ids, record.seed)) {
    const setType = assignment[orderIds[i] as number] ?? -1;
    if (setType >= 0) drawn[setType as SetType].push(ids[i]!);
  }
  return SET_TYPES.every((setType) => drawn[setType].length === record.achieved[setType]) ? drawn : undefined;
}
