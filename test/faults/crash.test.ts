import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import { DEFAULT_SPLIT_OPTIONS, type SetSizes } from "../../lib/model.ts";
import { documentClient } from "../../lib/store/client.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { TABLE } from "../../lib/store/table.ts";
import {
  type Call,
  chunkWrites,
  deferred,
  type Fault,
  type FaultProxy,
  isPublish,
  useFaultProxy,
} from "../support/fault-proxy/index.ts";
import {
  codeOf,
  counts,
  expectCompleteSplit,
  freshStore,
  localClient,
  registerImages,
  registrationOrder,
  seedImages,
  split,
} from "../support/store.ts";

/**
 * Guarantee 4: a split that dies at any step leaves the previous snapshot live and readable, and
 * blocks nothing: the next split publishes at once. The dying split runs in a store reached through
 * the fault proxy (its process dies there: the call being sent and every answer in flight are lost,
 * and nothing it does afterwards reaches DynamoDB); everything else uses a store on the same table
 * reached directly. The dying split has its whole storage budget to reach the step it dies at, so a
 * slow machine only makes it later; the calls a dead process still makes are refused, so its
 * doomed code ends at once instead of retrying to its deadline.
 */
const proxy = useFaultProxy();

type Reserved = Record<string, unknown> & { img_id: string };

/** The reserved items of a task (sort key starting with '#'): task item, run items, snapshot chunks. */
async function reservedItems(tableName: string, taskId: string): Promise<Reserved[]> {
  const out = await documentClient(localClient()).send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "#pk = :task AND begins_with(#sk, :hash)",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
      ExpressionAttributeValues: { ":task": taskId, ":hash": "#" },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []) as Reserved[];
}

/** The run and chunk items of the split attempt with `token`. */
const itemsOf = (items: Reserved[], token: string) =>
  items.filter((item) => item.img_id.startsWith("#") && item.img_id.includes(`#${token}`));

/**
 * A task split once (`previous`) on a fresh table; `faulty` reaches the same table through the proxy.
 * With `lastOrderId`, half the images have order_ids 1… and half end at lastOrderId, the rest holes:
 * a snapshot as many chunks long as lastOrderId needs, for the reading of only `images` images.
 */
async function splitOnce(taskId: string, images: number, lastOrderId?: number) {
  const { store: truth, config } = await freshStore();
  const faulty: Store = createStore({ ...config, endpoint: proxy().endpoint });
  if (lastOrderId) {
    await seedImages(config, taskId, images / 2);
    await seedImages(config, taskId, images / 2, lastOrderId - images / 2 + 1);
  } else await registerImages(truth, taskId, images);
  const previous = await split(truth, { taskId, counts: counts(images / 2, images / 4, images / 5), seed: "previous" });
  return { truth, faulty, previous, tableName: config.tableName };
}

/** The process dies the moment `when` holds for an arriving call: that call and every later one are lost. */
const dieWhen =
  (p: FaultProxy, when: (call: Call) => boolean) =>
  (call: Call): Fault | undefined => {
    if (when(call)) p.kill();
    return undefined;
  };

interface Boundary {
  name: string;
  images: number;
  /** The task's highest order_id when it has holes (see splitOnce). */
  lastOrderId?: number;
  policy: (p: FaultProxy) => (call: Call) => Fault | undefined;
  /** What of the dead split's snapshot reached the table: its run item, and how many chunks. */
  left: { run: number; chunks: number };
  /** True when the dead split's publish reached DynamoDB: its snapshot is live. */
  published: boolean;
}

const boundaries: Boundary[] = [
  {
    name: "after reading the images, before its run item",
    images: 200,
    policy: (p) => dieWhen(p, (call) => call.operation === "PutItem"),
    left: { run: 0, chunks: 0 },
    published: false,
  },
  {
    name: "after its run item, before any chunk",
    images: 200,
    policy: (p) => dieWhen(p, (call) => chunkWrites(call) > 0),
    left: { run: 1, chunks: 0 },
    published: false,
  },
  {
    // Order_ids up to 20,000: a snapshot of 2 chunks, sent in one BatchWriteItem; one lands, then the process dies.
    name: "mid-chunk-write, one of its two chunks written",
    images: 200,
    lastOrderId: 20_000,
    policy: (p) => {
      let chunkCalls = 0;
      return (call) => {
        if (chunkWrites(call) === 0) return undefined;
        if (++chunkCalls === 1) return { kind: "unprocessed", keep: 1 };
        p.kill();
        return undefined;
      };
    },
    left: { run: 1, chunks: 1 },
    published: false,
  },
  {
    name: "with its publish sent but lost before DynamoDB",
    images: 200,
    policy: (p) => dieWhen(p, isPublish),
    left: { run: 1, chunks: 1 },
    published: false,
  },
  {
    name: "right after its publish was applied, before answering",
    images: 200,
    policy: () => (call) => (isPublish(call) ? { kind: "dropAnswer", thenDie: true } : undefined),
    left: { run: 1, chunks: 1 },
    published: true,
  },
];

describe("a split killed at each step (guarantee 4)", () => {
  it.each(boundaries)(
    "killed $name: the live snapshot stays whole and readable, and the next split publishes at once",
    async ({ name, images, lastOrderId, policy, left, published }) => {
      // Arrange
      const taskId = `killed-${boundaries.findIndex((b) => b.name === name)}`;
      const { truth, faulty, previous, tableName } = await splitOnce(taskId, images, lastOrderId);
      const part = (share: number) => Math.round(images * share);
      const sizes: SetSizes = counts(part(0.3), part(0.3), part(0.2));
      proxy().policy = policy(proxy());
      proxy().afterDeath = "refuse";

      // Act: the split runs until it reaches its step and dies there; nothing it does afterwards reaches DynamoDB
      const outcome = await codeOf(split(faulty, { taskId, counts: sizes, seed: "dies" }));
      expect(proxy().dead).toBe(true);
      expect(outcome).toBe(1500);
      proxy().reset();
      const previousToken = (await truth.readTask(taskId))?.published.at(-1)?.token as string;
      const deadItems = (await reservedItems(tableName, taskId)).filter(
        (item) => item.img_id !== "#task" && !item.img_id.includes(`#${previousToken}`),
      );
      expect({
        run: deadItems.filter((item) => item.img_id.startsWith("#run#")).length,
        chunks: deadItems.filter((item) => item.img_id.startsWith("#split#")).length,
      }).toEqual(left);

      // Assert: readers see a whole snapshot: the previous one, or the dead split's once its publish was applied
      const live = (await truth.taskSummary(taskId)).live;
      if (published) {
        expect(live?.version).toBe(previous.version + 1);
        expect(live?.seed).toBe("dies");
        const replay = await split(truth, {
          taskId,
          counts: sizes,
          seed: "dies",
          options: { ...DEFAULT_SPLIT_OPTIONS, dryRun: true },
        });
        await expectCompleteSplit(truth, { ...replay, version: previous.version + 1 }, registrationOrder(taskId));
      } else {
        expect(live?.version).toBe(previous.version);
        await expectCompleteSplit(truth, previous, registrationOrder(taskId));
      }
      // Nothing is blocked: the next split publishes at once, on top of whatever is live
      const next = await split(truth, { taskId, counts: counts(part(0.4), part(0.2), part(0.1)), seed: "next" });
      expect(next.version).toBe(previous.version + (published ? 2 : 1));
      await expectCompleteSplit(truth, next, registrationOrder(taskId));
      // What the dead split left behind (run item, chunks) is expired by the next split, never by TTL-less leftovers
      if (!published) {
        const retained = ((await truth.readTask(taskId))?.published ?? []).map((pair) => pair.token);
        const leftovers = (await reservedItems(tableName, taskId)).filter(
          (item) =>
            (item.img_id.startsWith("#run#") || item.img_id.startsWith("#split#")) &&
            !retained.some((token) => item.img_id.includes(`#${token}`)),
        );
        for (const item of leftovers) expect(item, item.img_id).toHaveProperty(TABLE.expiryAttribute);
      }
    },
  );
});

describe("a zombie split whose chunk writes land late", () => {
  it("its chunks are never read: it gets 1008 naming the winner, the listing is exactly the winner's, and its chunks expire", async () => {
    // Arrange: split A's chunk write is held on the wire (a stalled request, a paused process)
    const taskId = "zombie";
    const { truth, faulty, previous, tableName } = await splitOnce(taskId, 200);
    const held = deferred<string>();
    const release = deferred();
    proxy().policy = (call) => {
      if (call.operation !== "BatchWriteItem" || chunkWrites(call) === 0) return undefined;
      // The chunk's sort key, #split#<version>#<token>#<chunk>, names the zombie's token
      held.resolve(
        String(call.input.RequestItems[tableName][0].PutRequest.Item[TABLE.sortKey].S).split("#")[3] as string,
      );
      return { kind: "hold", until: release.promise };
    };
    const zombie = split(faulty, { taskId, counts: counts(100, 50, 50), seed: "zombie" }).catch(
      (error: unknown) => error,
    );
    const zombieToken = await held.promise;

    // Act: split B of the same task publishes meanwhile; then A's chunks land and A tries to publish
    const winner = await split(truth, { taskId, counts: counts(60, 60, 30), seed: "winner" });
    release.resolve();
    const outcome = await zombie;

    // Assert: A lost, and says to whom
    expect(outcome).toBeInstanceOf(ServiceError);
    expect(outcome).toMatchObject({ code: 1008, status: 409 });
    expect((outcome as ServiceError).detail).toBe(
      `split version ${winner.version} was published while this split (planned on version ${previous.version}) ran`,
    );
    // The live split is B's, read whole
    expect((await truth.readTask(taskId))?.live?.version).toBe(winner.version);
    await expectCompleteSplit(truth, winner, registrationOrder(taskId));
    // A's chunks (and run item) landed, and carry an expiry: they can never become live
    const zombieItems = itemsOf(await reservedItems(tableName, taskId), zombieToken);
    expect(zombieItems.filter((item) => item.img_id.startsWith("#split#")).length).toBeGreaterThan(0);
    for (const item of zombieItems) expect(item, item.img_id).toHaveProperty(TABLE.expiryAttribute);
  });
});
