import { describe, expect, it } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import type { ImageCursor, ImageInfo, SetType, SplitResult } from "../../lib/model.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { deferred, isPublish, seededRandom, useFaultProxy } from "../support/fault-proxy/index.ts";
import {
  codeOf,
  counts,
  expectCompleteSplit,
  freshStore,
  imageId,
  readWholeSet,
  registerImages,
  registrationOrder,
  split,
} from "../support/store.ts";

/**
 * Guarantees 2, 3 and 5 under real contention: many splits of one task at once, each from its own
 * store and client (separate Lambdas), every call delayed at random on the wire.
 */
const proxy = useFaultProxy();

/** The version a 1008's detail names as the winner, and the one its split planned on. */
function versionsOf(error: ServiceError): { winner: number; planned: number } {
  const match = /split version (\d+) was published while this split \(planned on version (\d+)\)/.exec(
    error.detail ?? "",
  );
  if (!match) throw new Error(`1008 without the winning version: ${error.detail}`);
  return { winner: Number(match[1]), planned: Number(match[2]) };
}

describe("concurrent splits of one task (guarantee 3)", () => {
  it("20 at once: published versions are distinct and consecutive, every 1008 names a later winner, the final state is the last winner's", async () => {
    // Arrange
    const { store: truth, config } = await freshStore();
    const taskId = "twenty";
    await registerImages(truth, taskId, 300);
    const splitters = Array.from({ length: 20 }, () => createStore({ ...config, endpoint: proxy().endpoint }));
    const random = seededRandom(0xc0c0);
    proxy().policy = () => ({ kind: "delay", ms: Math.floor(random() * 25) });
    const published: SplitResult[] = [];
    let refusals = 0;

    for (let round = 0; round < 3; round++) {
      // Act: different seeds and sizes, so any mix of two splits would show
      const results = await Promise.allSettled(
        splitters.map((store, i) =>
          split(store, { taskId, counts: counts(100 + i, 50 + round, 20 + ((i * 7) % 13)), seed: `r${round}-${i}` }),
        ),
      );

      // Assert
      const won = results.filter((r) => r.status === "fulfilled").map((r) => r.value);
      published.push(...won);
      for (const result of results) {
        if (result.status === "fulfilled") continue;
        expect(result.reason).toBeInstanceOf(ServiceError);
        const error = result.reason as ServiceError;
        expect([error.code, error.status]).toEqual([1008, 409]);
        const { winner, planned } = versionsOf(error);
        expect(winner).toBeGreaterThan(planned);
        refusals++;
      }
      expect(won.length).toBeGreaterThanOrEqual(1);
    }

    const versions = published.map((w) => w.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    expect(refusals + published.length).toBe(60);
    expect(refusals).toBeGreaterThan(0);
    const last = published.find((w) => w.version === versions.at(-1)) as SplitResult;
    expect((await truth.readTask(taskId))?.live?.version).toBe(last.version);
    await expectCompleteSplit(truth, last, registrationOrder(taskId));
  });

  it("a publish applied whose answer is lost answers success, never 1008", async () => {
    const { store: truth, config } = await freshStore();
    const taskId = "lost-publish";
    await registerImages(truth, taskId, 40);
    const faulty = createStore({ ...config, endpoint: proxy().endpoint });
    let dropped = 0;
    proxy().policy = (call) => (isPublish(call) && dropped++ === 0 ? { kind: "dropAnswer" } : undefined);

    const result = await split(faulty, { taskId, counts: counts(20, 10, 10), seed: "lost" });

    expect(dropped).toBeGreaterThanOrEqual(2); // the dropped publish, then its retry, refused by the condition
    expect(proxy().log.filter((entry) => isPublish(entry) && entry.fault === "dropAnswer")).toHaveLength(1);
    expect(result.version).toBe(1);
    await expectCompleteSplit(truth, result, registrationOrder(taskId));
  });
});

describe("readers during splits (guarantee 2)", () => {
  it("readers paging during 50 splits never see a mix: each pass is exactly one published split's set", async () => {
    const { store: truth, config } = await freshStore();
    const taskId = "fifty";
    await registerImages(truth, taskId, 400);
    const first = await split(truth, { taskId, counts: counts(200, 100, 50), seed: "first" });
    const byVersion = new Map<number, SplitResult>([[first.version, first]]);
    const reader = createStore({ ...config, endpoint: proxy().endpoint });
    const random = seededRandom(0x5eed);
    proxy().policy = () => ({ kind: "delay", ms: Math.floor(random() * 4) });
    let splitting = true;

    const splits = (async () => {
      for (let i = 0; i < 50; i++) {
        const result = await split(truth, { taskId, counts: counts(150 + i, 100, 50), seed: `s${i}` });
        byVersion.set(result.version, result);
      }
      splitting = false;
    })();
    const passes: { version: number; setType: SetType; ids: string[] }[] = [];
    const readers = ([0, 1, 2] as SetType[]).map(async (setType) => {
      while (splitting) {
        const pass = await readPass(reader, taskId, setType);
        if (pass) passes.push({ setType, ...pass });
      }
    });
    await Promise.all([splits, ...readers]);

    expect(passes.length).toBeGreaterThan(10);
    for (const pass of passes) {
      const published = byVersion.get(pass.version) as SplitResult;
      expect(pass.ids.sort()).toEqual([...published.drawn[pass.setType]].sort());
    }
  });

  it("a cursor finishes its snapshot while retained, and gets 1015 once the snapshot is retired and expired", async () => {
    const { store } = await freshStore({ snapshotGraceSeconds: 1 });
    const taskId = "retention";
    await registerImages(store, taskId, 60);
    const first = await split(store, { taskId, counts: counts(40, 10, 10), seed: "kept" });
    const page = await store.listSet({ taskId, setType: 0, limit: 10, cursor: undefined });
    for (let i = 0; i < 19; i++) await split(store, { taskId, counts: counts(30, 10, 10), seed: `n${i}` });

    // Still among the last 20: readable to the end.
    const rest = await readFrom(store, taskId, page.nextCursor);
    expect([...page.images, ...rest].map((image) => image.img_id).sort()).toEqual([...first.drawn[0]].sort());

    await split(store, { taskId, counts: counts(30, 10, 10), seed: "retires-the-first" });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await codeOf(store.listSet({ taskId, setType: 0, limit: 10, cursor: page.nextCursor }))).toBe(1015);
  });
});

describe("registration during splits (guarantee 5)", () => {
  it("registers and renames while a split is held before its publish: nothing waits, nothing is lost", async () => {
    const { store: truth, config } = await freshStore();
    const taskId = "no-wait";
    await registerImages(truth, taskId, 100);
    const splitter = createStore({ ...config, endpoint: proxy().endpoint });
    const release = deferred();
    proxy().policy = (call) => (isPublish(call) ? { kind: "hold", until: release.promise } : undefined);
    const seen = proxy().log.length;
    const pending = split(splitter, { taskId, counts: counts(60, 20, 20), seed: "held" });
    await waitFor(() =>
      proxy()
        .log.slice(seen)
        .some((entry) => isPublish(entry)),
    );

    // While the split is held: new images and renames go through, the split still waiting.
    let splitEnded = false;
    void pending.finally(() => {
      splitEnded = true;
    });
    const added = await truth.registerImages({
      taskId,
      images: [
        { imgId: imageId(taskId, 101), imgName: "new-101.jpg" },
        { imgId: imageId(taskId, 5), imgName: "renamed-5.jpg", state: 4 },
      ],
    });
    const registeredWhileHeld = !splitEnded;
    release.resolve();
    const result = await pending;

    expect(registeredWhileHeld).toBe(true);
    expect(added).toMatchObject({ added: 1, updated: 1, total: 101 });
    // The new image registered after the split read the task: in no set of it.
    expect(Object.values(result.drawn).flat()).not.toContain(imageId(taskId, 101));
    const listed = (
      await Promise.all(([0, 1, 2] as SetType[]).map((t) => readFrom(truth, taskId, undefined, t)))
    ).flat();
    expect(listed).toHaveLength(100);
    const renamed = listed.find((image) => image.img_id === imageId(taskId, 5)) as ImageInfo;
    expect(renamed).toMatchObject({ img_name: "renamed-5.jpg", state: 4, order_id: 5 });
    expect((await truth.taskSummary(taskId)).unassignedCount).toBe(1);
  });
});

describe("a split sees every image registered before it began", () => {
  it("register then split at once never gets 1007, even with the order index 10 s behind", async () => {
    const { config } = await freshStore();
    const store = createStore({ ...config, endpoint: proxy().endpoint });
    proxy().indexLagMs = 10_000;
    const taskId = "register-then-split";

    await registerImages(store, taskId, 500);
    const result = await split(store, { taskId, counts: counts(500, 0, 0), seed: "now" });

    expect(result.drawn[0]).toHaveLength(500);
    // The lag was real: the order index did not show them yet.
    const page = await store
      .listSet({ taskId, setType: 0, limit: 10, cursor: undefined }, Date.now() + 300)
      .catch((e) => e);
    expect(page).toMatchObject({ code: 1500, status: 503 });
  });
});

/** One whole pass over a set, first page to last; undefined when a re-split interrupted it (1015). */
async function readPass(store: Store, taskId: string, setType: SetType) {
  const ids: string[] = [];
  let version: number | undefined;
  let cursor: Parameters<Store["listSet"]>[0]["cursor"];
  do {
    try {
      const page = await store.listSet({ taskId, setType, limit: 17, cursor });
      ids.push(...page.images.map((image) => image.img_id));
      version ??= page.nextCursor?.version;
      cursor = page.nextCursor;
    } catch (error) {
      if ((error as ServiceError).code === 1015) return undefined;
      throw error;
    }
  } while (cursor);
  // A pass of one page names no version: ask the task item which one it was (a later split may have won since).
  return version === undefined ? undefined : { version, ids };
}

async function readFrom(
  store: Store,
  taskId: string,
  from: Parameters<Store["listSet"]>[0]["cursor"],
  setType: SetType = 0,
) {
  const images: ImageInfo[] = [];
  let cursor = from;
  do {
    const page = await store.listSet({ taskId, setType, limit: 9, cursor });
    images.push(...page.images);
    cursor = page.nextCursor;
  } while (cursor);
  return images;
}

async function waitFor(condition: () => boolean) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!condition()) throw new Error("waitFor: timed out");
}

describe("splits and deletions of one task at once, every call delayed at random", () => {
  it("no listing afterwards shows a deleted image; the live split's sets are exact over what it saw, less the deleted", async () => {
    // Arrange
    const { store: truth, config } = await freshStore();
    const taskId = "split-delete";
    await registerImages(truth, taskId, 400);
    const stores = Array.from({ length: 6 }, () => createStore({ ...config, endpoint: proxy().endpoint }));
    const random = seededRandom(0xde1e);
    proxy().policy = () => ({ kind: "delay", ms: Math.floor(random() * 20) });
    const doomed = Array.from({ length: 400 }, (_, i) => imageId(taskId, i + 1)).filter((_, i) => i % 4 === 1);

    // Act: three splits and three deletions of 33-34 images, interleaved on the wire
    const outcomes = await Promise.all([
      ...[0, 1, 2].map((k) =>
        split(stores[k]!, { taskId, counts: counts(150, 80, 60), seed: `sd${k}` }).catch((error: unknown) => error),
      ),
      ...[0, 1, 2].map((k) => stores[k + 3]!.deleteImages({ taskId, imgIds: doomed.filter((_, i) => i % 3 === k) })),
    ]);
    proxy().policy = undefined;

    // Assert
    const deletions = outcomes.slice(3) as Awaited<ReturnType<Store["deleteImages"]>>[];
    expect(deletions.reduce((sum, d) => sum + d.deleted, 0)).toBe(100);
    const live = (await truth.readTask(taskId))?.live;
    const winner = outcomes
      .slice(0, 3)
      .find((o): o is SplitResult => !(o instanceof Error) && (o as SplitResult).version === live?.version);
    expect(winner).toBeDefined();
    const gone = new Set(doomed);
    for (const setType of [0, 1, 2] as const) {
      const listed = (await readWholeSet(truth, taskId, setType)).map((image) => image.img_id);
      expect(listed).toEqual([...winner!.drawn[setType]].filter((id) => !gone.has(id)).sort());
    }
    const images: string[] = [];
    for (let cursor: ImageCursor | undefined, first = true; first || cursor; first = false) {
      const page = await truth.listImages({ taskId, imgId: undefined, limit: 70, cursor });
      images.push(...page.images.map((image) => image.img_id));
      cursor = page.nextCursor;
    }
    expect(images).toEqual(Array.from({ length: 400 }, (_, i) => imageId(taskId, i + 1)).filter((id) => !gone.has(id)));
    expect((await truth.readTask(taskId))?.imageCount).toBe(300);
  });
});
