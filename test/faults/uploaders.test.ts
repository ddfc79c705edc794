import { describe, expect, it } from "vitest";
import type { ImageInput } from "../../lib/model.ts";
import { deferred, isPublish, useFaultProxy } from "../support/fault-proxy/index.ts";
import { codeOf, split, storesThrough } from "../support/store.ts";

/**
 * Guarantees 5 and 6 with many writers on one task item: uploaders registering into one task in
 * parallel while splits of it run, through a proxy that raises DynamoDB's transaction conflicts
 * (every registration's allocation and count, every deletion and every publish writes the task item) and applies its
 * per-partition limits (all of a task's items share one partition key). Conflicts and throttling
 * are retried within the budget: nothing fails, nothing is lost, nothing is counted twice.
 */
const proxy = useFaultProxy({ conflicts: true, capacity: true });

const UPLOADERS = 8;
/** Each uploader's images: a range of its own, its last OVERLAP shared with the next uploader's first. */
const PER_UPLOADER = 100;
const OVERLAP = 20;
/** Images per registration call (the API takes up to 1,000). */
const PER_CALL = 50;

const imagesOf = (uploader: number): ImageInput[] =>
  Array.from({ length: PER_UPLOADER }, (_, k) => {
    const i = uploader * (PER_UPLOADER - OVERLAP) + k;
    return { imgId: `img${String(i).padStart(6, "0")}`, imgName: `img_${i}.jpg`, state: 0 };
  });

/** Resolves once `condition` holds, checking every few ms: waits for an event, however long it takes. */
async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("parallel uploaders into one task while it is split (guarantees 5 and 6)", () => {
  it("every registration gets through conflicts and throttling, the count is exact, order_ids unique, every split 200 or 1008", async () => {
    // Arrange
    const { faulty, truth } = await storesThrough(proxy().endpoint);
    const taskId = "uploaders";
    const log = proxy().log;
    const refused = (which: (entry: (typeof log)[number]) => boolean) =>
      log.some((entry) => entry.fault === "conflict" && which(entry));
    const published = () => log.some((entry) => isPublish(entry) && entry.status === 200);
    // The overlaps this test is about happen for certain, however the machine schedules the
    // writers: the first transaction on the task item (a registration's count, settled after its
    // creations) stays in flight until another registration's call has met it, and the first one
    // sent after a publish until a publish has met it (one uploader's last call waits for a
    // publish, so there is one, and the splitters publish for as long as anyone uploads).
    const holds = [
      { ready: () => true, until: () => refused((entry) => !isPublish(entry)) },
      { ready: published, until: () => refused(isPublish) },
    ];
    proxy().holdTransaction = (call) => {
      const next = holds[0];
      if (!next?.ready() || !JSON.stringify(call.input).includes('"#task"')) return undefined;
      holds.shift();
      return until(next.until);
    };

    // Act: 8 uploaders, each in calls of PER_CALL images; two splitters from the first registration on
    const registered = deferred();
    let uploading = UPLOADERS;
    const uploaders = Array.from({ length: UPLOADERS }, async (_, u) => {
      const images = imagesOf(u);
      const answers = [];
      for (let start = 0; start < images.length; start += PER_CALL) {
        if (u === 0 && start + PER_CALL >= images.length) await until(published);
        answers.push(await faulty.registerImages({ taskId, images: images.slice(start, start + PER_CALL) }));
        registered.resolve();
      }
      uploading--;
      return answers;
    });
    const splitCodes: number[] = [];
    const splitter = async (name: string) => {
      await registered.promise;
      for (let round = 0; round === 0 || uploading > 0; round++) {
        const code = await codeOf(
          split(faulty, { taskId, ratios: { 0: 0.7, 1: 0.1, 2: 0.2 }, seed: `${name}-${round}` }),
        );
        splitCodes.push(code === 0 ? 200 : code);
      }
    };
    const [answers] = await Promise.all([Promise.all(uploaders), splitter("a"), splitter("b")]);

    // Assert: every call answered, the images are all there once each, counted once each
    const distinct = new Set(
      Array.from({ length: UPLOADERS }, (_, u) => imagesOf(u).map((image) => image.imgId)).flat(),
    );
    expect(distinct.size).toBe(UPLOADERS * (PER_UPLOADER - OVERLAP) + OVERLAP);
    const calls = answers.flat();
    expect(calls).toHaveLength(UPLOADERS * Math.ceil(PER_UPLOADER / PER_CALL));
    // Each shared image was created by exactly one of the two uploaders; the other updated it.
    expect(calls.reduce((sum, answer) => sum + answer.added, 0)).toBe(distinct.size);
    expect((await truth.readTask(taskId))?.imageCount).toBe(distinct.size);
    const stored = await truth.readImages(taskId);
    expect(new Set(stored.map((image) => image.imgId))).toEqual(distinct);
    expect(stored).toHaveLength(distinct.size);
    expect(new Set(stored.map((image) => image.orderId)).size).toBe(stored.length);

    // Every split published or lost to another one, never 503/1500
    expect(splitCodes.length).toBeGreaterThanOrEqual(2);
    expect(splitCodes.filter((code) => code !== 200 && code !== 1008)).toEqual([]);
    expect(splitCodes).toContain(200);

    // The overlaps really happened, and were retried
    expect(holds).toEqual([]);
    expect(refused((entry) => !isPublish(entry))).toBe(true);
    expect(refused(isPublish)).toBe(true);
  });
});
