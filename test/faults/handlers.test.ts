import { beforeAll, describe, expect, it, vi } from "vitest";
import { decodeCursor } from "../../lib/http/cursor.ts";
import { SET_TYPES, type SetType } from "../../lib/model.ts";
import type { Store } from "../../lib/store/index.ts";
import {
  type Call,
  chunkWrites,
  deferred,
  type Fault,
  type FaultProxy,
  isPublish,
  seededRandom,
} from "../support/fault-proxy/index.ts";
import { type Reply, useApiThroughProxy } from "../support/http.ts";

/**
 * The deployed code path under faults: the real handlers behind the local gateway, with their
 * DynamoDB (DYNAMODB_ENDPOINT, read at import as in Lambda) behind the fault proxy.
 */

const SETS = "/training/tasks/sets";
const IMAGES = "/training/tasks/images";
/**
 * A handler's storage deadline is the time its function has left (29 s) less ANSWER_MARGIN_MS:
 * 27 s of margin leaves each request 2 s of storage, so exhaustion is answered in about 2 s.
 */
const STORAGE_MS = 2_000;

const running = useApiThroughProxy({ ANSWER_MARGIN_MS: String(29_000 - STORAGE_MS) });
let proxy: FaultProxy;
let api: ReturnType<typeof running>["api"];
let truth: Store;
beforeAll(() => {
  ({ proxy, api, truth } = running());
});

type Drawn = Record<SetType, string[]>;

const register = async (taskId: string, count: number) => {
  const images = Array.from({ length: count }, (_, i) => ({
    img_id: `${taskId}-${i + 1}`,
    img_name: `img_${i + 1}.jpg`,
  }));
  const reply = await api.call("POST", IMAGES, { task_id: taskId, images });
  expect(reply.body).toMatchObject({ code: 0, added: count });
};
const split = (taskId: string, training: number, verifying: number, testing: number, seed: string) =>
  api.call("PUT", SETS, {
    task_id: taskId,
    training_count: training,
    verifying_count: verifying,
    testing_count: testing,
    seed,
  });
const list = (taskId: string, setType: SetType, limit: number, cursor?: string) =>
  api.call(
    "GET",
    `${SETS}?task_id=${taskId}&set_type_id=${setType}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
  );
const drawnOf = (reply: Reply): Drawn => ({
  0: reply.body.img_ids_set_training as string[],
  1: reply.body.img_ids_set_testing as string[],
  2: reply.body.img_ids_set_verifying as string[],
});
const members = (ids: readonly string[]) => [...ids].sort().join(",");

/** One whole read of a set, page by page, as a client would do it. */
type Observation =
  | { kind: "complete"; setType: SetType; ids: string[]; orders: number[]; versions: Set<number>; pages: number }
  | { kind: "restarted"; setType: SetType }
  | { kind: "failed"; setType: SetType; reply: Reply };

async function readSet(taskId: string, setType: SetType, limit: number): Promise<Observation> {
  return readOn(taskId, setType, limit, undefined, []);
}

/** Reads on from `cursor` (or from the first page) to the end of the set. */
async function readOn(
  taskId: string,
  setType: SetType,
  limit: number,
  from: string | undefined,
  before: string[],
): Promise<Observation> {
  const ids: string[] = [...before];
  const orders: number[] = [];
  const versions = new Set<number>(from ? [decodeCursor(from).version] : []);
  let cursor = from;
  let pages = 0;
  do {
    const reply = await list(taskId, setType, limit, cursor);
    if (cursor && reply.status === 409 && reply.body.code === 1015) return { kind: "restarted", setType };
    if (reply.status !== 200 || reply.body.code !== 0) return { kind: "failed", setType, reply };
    pages++;
    for (const image of reply.body.img_info_list as { img_id: string; order_id: number }[]) {
      ids.push(image.img_id);
      orders.push(image.order_id);
    }
    cursor = reply.body.next_cursor as string | undefined;
    if (cursor) versions.add(decodeCursor(cursor).version);
  } while (cursor);
  return { kind: "complete", setType, ids, orders, versions, pages };
}

describe("readers during 50 consecutive splits (guarantee 2)", () => {
  it("every set read, page by page, is one version's complete set; a cursor from before a split finishes its own version", async () => {
    // Arrange: 120 images, sizes that differ from one split to the next
    const taskId = "hammered";
    await register(taskId, 120);
    const sizesOf = (i: number) => [40 + (i % 5) * 7, 20 + (i % 3) * 5, 10 + (i % 4) * 3] as const;
    const versions = new Map<number, Drawn>();
    const initial = await split(taskId, ...sizesOf(0), "h0");
    versions.set(initial.body.version as number, drawnOf(initial));
    // Reads are delayed at random on the wire, which widens every window between a reader's
    // task-item read, its chunk read and its index queries.
    const random = seededRandom(0x4a11);
    proxy.policy = (call) =>
      call.operation === "Query" || call.operation === "GetItem"
        ? { kind: "delay", ms: Math.floor(random() * 8) }
        : undefined;

    // Act: three readers hammer all three sets with small pages while the splits run back to back
    let splitting = true;
    const observations: Observation[] = [];
    const readers = [0, 1, 2].map(async (reader) => {
      const limits = [7, 13, 29, 200];
      for (let k = 0; splitting; k++) {
        observations.push(
          await readSet(taskId, SET_TYPES[(k + reader) % 3] as SetType, limits[(k + reader) % limits.length] as number),
        );
      }
    });
    const continued: Observation[] = [];
    for (let i = 1; i <= 50; i++) {
      // Every tenth split, a reader takes a first page just before it and resumes once it has published
      let resume: { cursor: string; first: string[]; version: number } | undefined;
      if (i % 10 === 5) {
        const page = await list(taskId, 0, 7);
        const cursor = page.body.next_cursor as string;
        resume = {
          cursor,
          first: (page.body.img_info_list as { img_id: string }[]).map((image) => image.img_id),
          version: decodeCursor(cursor).version,
        };
      }
      const reply = await split(taskId, ...sizesOf(i), `h${i}`);
      expect(reply.status).toBe(200);
      versions.set(reply.body.version as number, drawnOf(reply));
      if (resume) {
        const rest = await readOn(taskId, 0, 7, resume.cursor, resume.first);
        continued.push(rest);
        if (rest.kind === "complete") expect(rest.versions).toEqual(new Set([resume.version]));
      }
    }
    splitting = false;
    await Promise.all(readers);

    // Assert: readers never failed, and every complete read is exactly one version's set
    expect(observations.filter((o) => o.kind === "failed")).toEqual([]);
    const complete = observations.filter((o) => o.kind === "complete");
    for (const seen of complete) {
      expect(new Set(seen.ids).size).toBe(seen.ids.length);
      expect(seen.orders).toEqual([...seen.orders].sort((a, b) => a - b));
      if (seen.versions.size > 0) {
        // Paged: every cursor named the same version, and the pages add up to exactly its set
        expect(seen.versions.size).toBe(1);
        const drawn = versions.get([...seen.versions][0] as number);
        expect(members(seen.ids)).toBe(members(drawn?.[seen.setType] ?? []));
      } else {
        expect([...versions.values()].map((drawn) => members(drawn[seen.setType]))).toContain(members(seen.ids));
      }
    }
    expect(complete.length).toBeGreaterThan(100);
    expect(complete.filter((o) => o.pages > 1).length).toBeGreaterThan(50);
    // Resumed after a later split published: its own (retained) version, whole
    expect(continued).toHaveLength(5);
    for (const seen of continued) {
      expect(seen.kind).toBe("complete");
      if (seen.kind === "complete")
        expect(members(seen.ids)).toBe(members(versions.get([...seen.versions][0] as number)?.[0] ?? []));
    }
  });
});

describe("storage exhaustion over HTTP (guarantees 4 and 6)", () => {
  const throttle: Fault = { kind: "throttle", error: "ProvisionedThroughputExceededException" };
  const scenarios: [string, (call: Call) => Fault | undefined][] = [
    ["every call throttled", () => throttle],
    ["the run item write throttled", (call) => (call.operation === "PutItem" ? throttle : undefined)],
    [
      "every chunk write left unprocessed",
      (call) =>
        call.operation === "BatchWriteItem" && chunkWrites(call) > 0 ? { kind: "unprocessed", keep: 0 } : undefined,
    ],
    ["the publish throttled", (call) => (isPublish(call) ? throttle : undefined)],
  ];

  it.each(scenarios)(
    "%s: 503 with Retry-After, {code 1500, msg, request_id} and nothing else; the previous split intact, the next one at once",
    async (name, policy) => {
      // Arrange
      const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
      const taskId = `exhausted-${scenarios.findIndex(([n]) => n === name)}`;
      proxy.policy = undefined;
      await register(taskId, 60);
      const previous = await split(taskId, 30, 20, 10, "previous");
      const before = (await truth.readTask(taskId))?.live;
      proxy.policy = policy;

      // Act
      const started = Date.now();
      const reply = await split(taskId, 20, 20, 20, "refused");
      const took = Date.now() - started;
      proxy.policy = undefined;

      // Assert: the answer, in time, and nothing of the cause leaks
      expect(reply.status).toBe(503);
      expect(reply.headers.get("retry-after")).toBe("1");
      expect(reply.headers.get("content-type")).toBe("application/json; charset=utf-8");
      // a refused publish also says what became of the split: not published, safe to send again
      const publishRefused = name === "the publish throttled";
      expect(reply.body).toEqual({
        code: 1500,
        msg: "服务器内部错误，请稍后重试",
        request_id: expect.any(String),
        ...(publishRefused ? { detail: expect.stringMatching(/was not published/) } : {}),
      });
      expect(took).toBeLessThan(STORAGE_MS + 1_000);
      // The cause went to the log, with the request id the caller was given
      expect(log).toHaveBeenCalledWith(expect.stringContaining(reply.body.request_id as string));
      log.mockRestore();
      // The previous split, whole, and nothing of the refused one
      expect((await truth.readTask(taskId))?.live).toEqual(before);
      for (const setType of SET_TYPES) {
        const seen = await readSet(taskId, setType, 1000);
        expect(seen.kind === "complete" && members(seen.ids)).toBe(members(drawnOf(previous)[setType]));
      }
      // Nothing is blocked: the next split publishes at once
      const retry = await split(taskId, 20, 20, 20, "retry");
      expect(retry.status).toBe(200);
      expect(retry.body.version).toBe((previous.body.version as number) + 1);
    },
  );

  it("a listing whose index reads stay throttled is 503 with Retry-After and 1500", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const taskId = "exhausted-list";
    proxy.policy = undefined;
    await register(taskId, 10);
    await split(taskId, 5, 3, 2, "s");
    proxy.policy = (call) =>
      call.input.IndexName !== undefined ? { kind: "throttle", error: "ThrottlingException" } : undefined;

    const reply = await list(taskId, 0, 100);
    proxy.policy = undefined;

    expect(reply.status).toBe(503);
    expect(reply.headers.get("retry-after")).toBe("1");
    expect(reply.body).toEqual({ code: 1500, msg: "服务器内部错误，请稍后重试", request_id: expect.any(String) });
    expect((await list(taskId, 0, 100)).status).toBe(200);
    log.mockRestore();
  });
});

describe("a split that loses the race over HTTP (guarantee 3)", () => {
  it("answers 409 with 1008 and a detail naming the winning version, and the winner stays live", async () => {
    // Arrange: split A is held at its publish while split B of the same task runs and publishes
    const taskId = "lost-race";
    proxy.policy = undefined;
    await register(taskId, 50);
    const first = await split(taskId, 25, 15, 10, "first");
    const held = deferred();
    const release = deferred();
    let holding = false;
    proxy.policy = (call) => {
      if (holding || !isPublish(call) || call.input.Key?.task_id?.S !== taskId) return undefined;
      holding = true;
      held.resolve();
      return { kind: "hold", until: release.promise };
    };
    const loser = split(taskId, 30, 10, 10, "loser");
    await held.promise;

    // Act
    const winner = await split(taskId, 20, 20, 10, "winner");
    release.resolve();
    const lost = await loser;
    proxy.policy = undefined;

    // Assert
    expect(winner.status).toBe(200);
    expect(winner.body.version).toBe((first.body.version as number) + 1);
    expect(lost.status).toBe(409);
    expect(lost.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(lost.body).toEqual({
      code: 1008,
      msg: `任务 ${taskId} 正在分集，请稍后重试`,
      detail: `split version ${winner.body.version} was published while this split (planned on version ${first.body.version}) ran`,
    });
    for (const setType of SET_TYPES) {
      const seen = await readSet(taskId, setType, 1000);
      expect(seen.kind === "complete" && members(seen.ids)).toBe(members(drawnOf(winner)[setType]));
    }
  });
});
