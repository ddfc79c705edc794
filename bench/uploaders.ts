/**
 * Parallel uploaders into one task while it is split, under the AWS model: DynamoDB Local behind
 * test/support/fault-proxy/ with DynamoDB's per-partition limits (1,000 WCU/s and 3,000 RCU/s per
 * partition key value) and its transaction conflicts (every registration's allocation and count, and every
 * publish, writes the one task item). What it measures is how long registering takes when all of a
 * task's writers share one partition and one item, what it costs, how often they collide, and what
 * the splits running meanwhile answer.
 */

import { sleep } from "../lib/concurrency.ts";
import { readConfig, type StoreConfig } from "../lib/config.ts";
import { ServiceError } from "../lib/errors.ts";
import type { ImageInput } from "../lib/model.ts";
import { splitTask } from "../lib/split/split.ts";
import { createStore } from "../lib/store/index.ts";
import { DEFAULT_CONFLICT_HOLD_MS, startFaultProxy } from "../test/support/fault-proxy/index.ts";
import { imageIdOf, usualCounts } from "./support.ts";

export interface UploadersOptions {
  /** Uploaders registering at once (default 8). */
  uploaders?: number;
  /** Images each uploader registers, ids of its own (default 10,000). */
  imagesPerUploader?: number;
  /** Images per registration call (default 1,000, the API's maximum). */
  perCall?: number;
  /** Splits of the task, started while the registrations run, evenly over their calls (default 3). */
  splits?: number;
  /** How long a transaction holds its items in the proxy before it is forwarded (default the proxy's). */
  holdMs?: number;
  /**
   * Storage budget of each registration and split, one API request each (default the deployed
   * STORAGE_BUDGET_MS default). A registration answered 503 when it runs out is sent again after its
   * Retry-After, as a client would: registering is an idempotent upsert.
   */
  requestBudgetMs?: number;
  /** The task's id (default `uploaders-<uploaders>x<imagesPerUploader>`); it must not exist yet. */
  taskId?: string;
}

export interface UploadersResult {
  /** From the first registration call to the last answer. */
  registrationsMs: number;
  /** Each registration's and split's storage budget. */
  budgetMs: number;
  /** The longest single registration call, retries after a 503 included. */
  slowestCallMs: number;
  registrationCalls: number;
  /** Registration calls answered 503 (the budget ran out) and sent again. */
  registrationRetries: number;
  /** What each split answered: 200 published, else its code (1008 lost to another split, 1500 storage). */
  splitsCodes: number[];
  /** Units the model counted for everything (registrations and splits), and its refusals. */
  writeUnits: number;
  readUnits: number;
  throttledCalls: number;
  /** Calls the proxy refused with a transaction conflict. */
  conflictsInjected: number;
  /** The task's image count at the end (equals uploaders × imagesPerUploader, or the run throws). */
  imageCount: number;
}

/**
 * Registers `uploaders` × `imagesPerUploader` images into one task through the AWS model, each
 * uploader in calls of `perCall`, all at once, and splits the task `splits` times meanwhile (70 / 10
 * / 20 % of the images the split finds). Throws when a registration fails or an image is lost or
 * counted twice; a split's failure is reported in splitsCodes.
 */
export async function benchUploaders(
  config: StoreConfig,
  endpoint: string,
  options: UploadersOptions = {},
): Promise<UploadersResult> {
  const uploaders = options.uploaders ?? 8;
  const perUploader = options.imagesPerUploader ?? 10_000;
  const perCall = Math.min(1000, options.perCall ?? 1000);
  const splits = options.splits ?? 3;
  const taskId = options.taskId ?? `uploaders-${uploaders}x${perUploader}`;
  const proxy = await startFaultProxy(endpoint, {
    capacity: true,
    conflicts: { holdMs: options.holdMs ?? DEFAULT_CONFLICT_HOLD_MS },
  });
  try {
    const budgetMs = options.requestBudgetMs ?? readConfig({}).budgetMs;
    const store = createStore({ ...config, endpoint: proxy.endpoint, budgetMs });
    const callsEach = Math.ceil(perUploader / perCall);
    const totalCalls = uploaders * callsEach;
    let answered = 0;
    let slowestCallMs = 0;
    let registrationRetries = 0;

    // Split k starts once k / (splits + 1) of the registration calls have been answered.
    const splitsCodes: number[] = [];
    const splitRuns: Promise<void>[] = [];
    let started = 0;
    const startDueSplits = () => {
      while (started < splits && answered >= ((started + 1) * totalCalls) / (splits + 1)) {
        const seed = `uploaders-${started++}`;
        splitRuns.push(
          store
            .readTask(taskId)
            .then((task) => splitTask(store, { taskId, counts: usualCounts(task?.imageCount ?? 0), seed }))
            .then(
              () => void splitsCodes.push(200),
              (error: unknown) => {
                if (!(error instanceof ServiceError)) throw error;
                splitsCodes.push(error.code);
              },
            ),
        );
      }
    };

    const begin = performance.now();
    await Promise.all(
      Array.from({ length: uploaders }, async (_, u) => {
        for (let call = 0; call < callsEach; call++) {
          const first = u * perUploader + call * perCall + 1;
          const last = Math.min((u + 1) * perUploader, first + perCall - 1);
          const images: ImageInput[] = [];
          for (let i = first; i <= last; i++) images.push({ imgId: imageIdOf(i), imgName: `img_${i}.jpg`, state: 0 });
          const callStart = performance.now();
          for (;;) {
            try {
              await store.registerImages({ taskId, images });
              break;
            } catch (error) {
              if (!(error instanceof ServiceError && error.status === 503)) throw error;
              registrationRetries++;
              await sleep((error.retryAfter ?? 1) * 1000);
            }
          }
          slowestCallMs = Math.max(slowestCallMs, performance.now() - callStart);
          answered++;
          startDueSplits();
        }
      }),
    );
    const registrationsMs = performance.now() - begin;
    await Promise.all(splitRuns);

    // Nothing lost, nothing counted twice: read straight from DynamoDB Local, not charged.
    const direct = createStore({ ...config, endpoint });
    const expected = uploaders * perUploader;
    const imageCount = (await direct.readTask(taskId))?.imageCount ?? 0;
    const stored = await direct.readImages(taskId);
    const orderIds = new Set(stored.map((image) => image.orderId));
    if (imageCount !== expected || stored.length !== expected || orderIds.size !== expected)
      throw new Error(
        `uploaders: ${expected} images registered, task counts ${imageCount}, ${stored.length} stored with ${orderIds.size} distinct order_ids`,
      );

    const used = proxy.capacity!.consumed();
    return {
      budgetMs,
      registrationsMs,
      slowestCallMs,
      registrationCalls: totalCalls,
      registrationRetries,
      splitsCodes,
      writeUnits: used.writeUnits,
      readUnits: used.readUnits,
      throttledCalls: used.throttledCalls,
      conflictsInjected: proxy.conflictsInjected,
      imageCount,
    };
  } finally {
    await proxy.close();
  }
}
