import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { sleep } from "../../lib/concurrency.ts";
import { ServiceError } from "../../lib/errors.ts";
import { SET_TYPES, type SetSizes } from "../../lib/model.ts";
import { createStore, type Store } from "../../lib/store.ts";
import { TASK_ITEM_SK } from "../../lib/table.ts";
import {
  type Call,
  deferred,
  type Fault,
  type FaultProxy,
  imageWrites,
  isFlip,
  startFaultProxy,
} from "../support/fault-proxy.ts";
import {
  counts,
  expectCompleteSplit,
  freshStore,
  imageId,
  localClient,
  readWholeSet,
  registerImages,
  registrationOrder,
} from "../support/store.ts";

/**
 * Splits that die (guarantee 4) and splits that outlive their lease (the fencing behind guarantees
 * 2 and 3). The dying or paused split runs in a store reached through the fault proxy; the rest of
 * the world uses a store on the same table reached directly.
 */

const LEASE_MS = 1500;
const IMAGES = 150;

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceError) return error.code;
    return "not a ServiceError";
  }
  return 0;
};

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(inject("dynamoEndpoint"));
});
beforeEach(() => proxy.reset());
afterAll(async () => proxy.close());

/** A fresh table with a task of IMAGES images split once; `faulty` reaches it through the proxy. */
async function splitTask(taskId: string, overrides: Parameters<typeof freshStore>[0] = {}) {
  const { store: truth, config } = await freshStore({ leaseMs: LEASE_MS, ...overrides });
  const faulty: Store = createStore({ ...config, endpoint: proxy.endpoint, maxAttempts: 2 });
  await registerImages(truth, taskId, IMAGES);
  const previous = await truth.splitTask({ taskId, counts: counts(80, 40, 30), seed: "previous" });
  return { truth, faulty, previous, tableName: config.tableName };
}

/** Reads the three sets whole and checks they are exactly `split`'s: what expectCompleteSplit checks, for a split known only by its seed. */
async function expectSplitOfSeed(truth: Store, taskId: string, sizes: SetSizes, seed: string) {
  const seen = await Promise.all(
    SET_TYPES.map(async (setType) => (await readWholeSet(truth, taskId, setType)).map((image) => image.img_id)),
  );
  // The same seed over the same images gives the same split: replaying it shows what the dead split wrote.
  const replay = await truth.splitTask({ taskId, counts: sizes, seed });
  for (const setType of SET_TYPES) expect([...(seen[setType] ?? [])].sort()).toEqual([...replay.drawn[setType]].sort());
  await expectCompleteSplit(truth, replay, registrationOrder(taskId));
}

/** The process dies the moment `when` first holds for an arriving call: that call and every later one are lost. */
const dieWhen =
  (when: (call: Call) => boolean) =>
  (call: Call): Fault | undefined => {
    if (when(call)) proxy.kill();
    return undefined;
  };

// The dying split assigns 140 of the 150 images: 140 image rows to write (in batches of 25, or
// however the store writes them), at WRITE_CONCURRENCY 2.
type Boundary = [string, (start: { updates: number; images: number }) => (call: Call) => Fault | undefined, boolean];
const boundaries: Boundary[] = [
  ["right after taking the lease", (s) => dieWhen(() => proxy.completed("UpdateItem") > s.updates), false],
  [
    "after reading the images, before any image write",
    () => dieWhen((call) => imageWrites(call).imgIds.length > 0),
    false,
  ],
  ["after a third of the image rows were written", (s) => dieWhen(() => proxy.imagesWritten >= s.images + 47), false],
  [
    "after two thirds of the image rows were written",
    (s) => dieWhen(() => proxy.imagesWritten >= s.images + 94),
    false,
  ],
  [
    "after the last image write, before checking the index",
    () => dieWhen((call) => call.input.IndexName !== undefined),
    false,
  ],
  ["with the flip sent but lost before DynamoDB", () => dieWhen(isFlip), false],
  [
    "right after the flip was applied, before answering",
    () => (call) => (isFlip(call) ? { kind: "dropAnswer", thenDie: true } : undefined),
    true,
  ],
];

describe("a split killed at each write boundary (guarantee 4)", () => {
  it.each(boundaries)(
    "killed %s: readers see a complete assignment, and a retry succeeds once the lease is free",
    async (name, policy, flipped) => {
      // Arrange
      const taskId = `killed-${boundaries.findIndex(([n]) => n === name)}`;
      const { truth, faulty, previous } = await splitTask(taskId, { writeConcurrency: 2 });
      proxy.policy = policy({ updates: proxy.completed("UpdateItem"), images: proxy.imagesWritten });
      const sizes = counts(70, 50, 20);

      // Act: the split dies; the failure is never answered in earnest, so nothing releases the lease
      const outcome = await codeOf(faulty.splitTask({ taskId, counts: sizes, seed: "dies" }));
      const diedAt = Date.now();
      expect(proxy.dead).toBe(true);
      expect(outcome).not.toBe(0);
      proxy.reset();

      // Assert: the task stays blocked while the lease lasts (unless the flip, which releases it, was
      // applied: then a new split may start at once, and it is kept for the end)
      if (!flipped)
        expect(await codeOf(truth.splitTask({ taskId, counts: counts(1, 0, 0), seed: "too-soon" }))).toBe(1008);
      // Readers see a whole assignment: the previous one, or the dead split's once it had flipped
      expect((await truth.lastSplit(taskId))?.version).toBe(previous.version + (flipped ? 1 : 0));
      if (flipped) await expectSplitOfSeed(truth, taskId, sizes, "dies");
      else await expectCompleteSplit(truth, previous, registrationOrder(taskId));
      // Once the lease has expired, a retry succeeds
      if (!flipped) await sleep(Math.max(0, diedAt + LEASE_MS + 100 - Date.now()));
      const retried = await truth.splitTask({ taskId, counts: sizes, seed: "retry" });
      await expectCompleteSplit(truth, retried, registrationOrder(taskId));
    },
  );
});

/** Reads the lease expiry of a task straight from the table. */
async function leaseExpiry(tableName: string, taskId: string): Promise<number> {
  const out = await localClient().send(
    new GetItemCommand({
      TableName: tableName,
      Key: { task_id: { S: taskId }, img_id: { S: TASK_ITEM_SK } },
      ConsistentRead: true,
    }),
  );
  return Number(out.Item?.lease_expires?.N ?? 0);
}

/** Waits until the paused split's lease has run out for good (its other workers may renew it until they are idle). */
async function leaseRunsOut(tableName: string, taskId: string): Promise<void> {
  for (let expired = 0; expired < 2; ) {
    const expires = await leaseExpiry(tableName, taskId);
    expired = expires < Date.now() ? expired + 1 : 0;
    await sleep(expired > 0 ? 100 : expires + 20 - Date.now());
  }
}

describe("a zombie split that outlived its lease", () => {
  it("paused before its flip while another split ran: its flip is rejected (1008) and the other split's result stays", async () => {
    // Arrange: the zombie is held right at its flip
    const taskId = "zombie-flip";
    const { truth, faulty, tableName } = await splitTask(taskId);
    const held = deferred();
    const release = deferred();
    proxy.policy = (call) => {
      if (!isFlip(call)) return undefined;
      held.resolve();
      return { kind: "hold", until: release.promise };
    };
    const zombie = codeOf(faulty.splitTask({ taskId, counts: counts(100, 25, 25), seed: "zombie" }));
    await held.promise;

    // Act: its lease runs out, another split takes the task and finishes, then the zombie wakes up
    await leaseRunsOut(tableName, taskId);
    const winner = await truth.splitTask({ taskId, counts: counts(60, 60, 30), seed: "winner" });
    release.resolve();

    // Assert
    expect(await zombie).toBe(1008);
    expect((await truth.lastSplit(taskId))?.version).toBe(winner.version);
    await expectCompleteSplit(truth, winner, registrationOrder(taskId));
  });

  // Known limitation, kept visible: BatchWriteItem cannot carry a condition, so an image write
  // delayed past its lease (held on the wire, or in the SDK's retry backoff) lands unfenced.
  // Fencing each row (conditional writes) is the fix; these fail until then, and pass after.
  it.fails("with an image write held in flight past its lease: the late write does not corrupt the winner's assignment", async () => {
    // Arrange: one of the zombie's image writes stalls (a long SDK backoff, a paused process) until another split has won
    const taskId = "zombie-batch";
    const { truth, faulty, tableName } = await splitTask(taskId, { writeConcurrency: 1 });
    const held = deferred();
    const release = deferred();
    const start = proxy.imagesWritten;
    let holding = false;
    proxy.policy = (call) => {
      if (holding || imageWrites(call).imgIds.length === 0 || proxy.imagesWritten < start + 25) return undefined;
      holding = true;
      held.resolve();
      return { kind: "hold", until: release.promise };
    };
    const zombie = codeOf(faulty.splitTask({ taskId, counts: counts(100, 25, 25), seed: "zombie" }));
    await held.promise;
    await leaseRunsOut(tableName, taskId);
    const winner = await truth.splitTask({ taskId, counts: counts(60, 60, 30), seed: "winner" });

    // Act: the stalled write lands after the winner's flip
    release.resolve();
    const zombieOutcome = await zombie;

    // Assert: the zombie lost, and the live assignment is still exactly the winner's
    expect(zombieOutcome).toBe(1008);
    expect((await truth.lastSplit(taskId))?.version).toBe(winner.version);
    await expectCompleteSplit(truth, winner, registrationOrder(taskId));
  });

  // Known limitation, kept visible: BatchWriteItem cannot carry a condition, so an image write
  // delayed past its lease (held on the wire, or in the SDK's retry backoff) lands unfenced.
  // Fencing each row (conditional writes) is the fix; these fail until then, and pass after.
  it.fails("with an image write held in flight past its lease: the late write does not undo a rename made after it lost", async () => {
    const taskId = "zombie-rename";
    const { truth, faulty, tableName } = await splitTask(taskId, { writeConcurrency: 1 });
    const held = deferred<string[]>();
    const release = deferred();
    const start = proxy.imagesWritten;
    let holding = false;
    proxy.policy = (call) => {
      if (holding || imageWrites(call).imgIds.length === 0 || proxy.imagesWritten < start + 25) return undefined;
      holding = true;
      held.resolve(imageWrites(call).imgIds);
      return { kind: "hold", until: release.promise };
    };
    const zombie = codeOf(faulty.splitTask({ taskId, counts: counts(150, 0, 0), seed: "zombie" }));
    const inFlight = await held.promise;
    await leaseRunsOut(tableName, taskId);
    const target = inFlight[0] as string;
    await truth.registerImages({ taskId, images: [{ imgId: target, imgName: "renamed.jpg", state: 4 }] });

    release.resolve();
    await zombie;

    const row = await localClient().send(
      new GetItemCommand({
        TableName: tableName,
        Key: { task_id: { S: taskId }, img_id: { S: target } },
        ConsistentRead: true,
      }),
    );
    expect({ name: row.Item?.img_name?.S, state: row.Item?.state?.N }).toEqual({ name: "renamed.jpg", state: "4" });
  });

  // Known limitation, kept visible: BatchWriteItem cannot carry a condition, so an image write
  // delayed past its lease (held on the wire, or in the SDK's retry backoff) lands unfenced.
  // Fencing each row (conditional writes) is the fix; these fail until then, and pass after.
  it.fails("a registration whose write was held in flight past its lease does not undo the split that ran after it", async () => {
    // Arrange: a rename's image write stalls until its lease has expired and a split has taken the task
    const taskId = "zombie-registration";
    const { truth, faulty, tableName } = await splitTask(taskId);
    const held = deferred();
    const release = deferred();
    let holding = false;
    proxy.policy = (call) => {
      if (holding || imageWrites(call).imgIds.length === 0) return undefined;
      holding = true;
      held.resolve();
      return { kind: "hold", until: release.promise };
    };
    const renames = Array.from({ length: 25 }, (_, i) => ({
      imgId: imageId(taskId, i + 1),
      imgName: `renamed_${i + 1}.jpg`,
      state: 1,
    }));
    const zombie = codeOf(faulty.registerImages({ taskId, images: renames }));
    await held.promise;
    await leaseRunsOut(tableName, taskId);
    const winner = await truth.splitTask({ taskId, counts: counts(60, 60, 30), seed: "winner" });

    // Act: the stale rows land after the split flipped
    release.resolve();
    await zombie;

    // Assert: the split's assignment is still whole
    await expectCompleteSplit(truth, winner, registrationOrder(taskId));
  });
});
