import { describe, expect, it } from "vitest";
import type { Json } from "../support/capacity-model/index.ts";
import { deferred, type LoggedCall, useFaultProxy } from "../support/fault-proxy/index.ts";
import { imageId, storesThrough } from "../support/store.ts";

/**
 * Registrations into one task create their images without touching the task item, so parallel
 * uploaders do not queue on it: the count is settled afterwards by a small transaction of its
 * own, idempotently, and one a registration did not live to make is made by the next.
 */
const proxy = useFaultProxy({ conflicts: true });

const images = (taskId: string, from: number, count: number) =>
  Array.from({ length: count }, (_, k) => ({ imgId: imageId(taskId, from + k), imgName: `img_${from + k}.jpg` }));

/** The sort keys a TransactWriteItems call writes or deletes. */
const transactKeys = (call: Pick<LoggedCall, "input">) =>
  ((call.input.TransactItems ?? []) as Json[]).map((item) => {
    const action = (item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck) as Json;
    return String(((action.Item ?? action.Key) as Json).img_id?.S);
  });
const createsImages = (call: Pick<LoggedCall, "operation" | "input">) =>
  call.operation === "TransactWriteItems" && transactKeys(call).some((key) => !key.startsWith("#"));

describe("registration's count (docs/design.md, Registration)", () => {
  it("parallel registrations into one task never refuse each other's image creations", async () => {
    const { faulty, truth } = await storesThrough(proxy().endpoint);
    const taskId = "parallel";

    await Promise.all(
      Array.from({ length: 4 }, (_, u) => faulty.registerImages({ taskId, images: images(taskId, 1 + u * 196, 196) })),
    );

    const creations = proxy().log.filter(createsImages);
    expect(creations.length).toBeGreaterThanOrEqual(8);
    // A transaction resent while its first attempt is still in flight (a timeout on a loaded machine)
    // meets itself; no first attempt may be refused.
    const sent = new Set<unknown>();
    const refusedFirstAttempts = creations.filter((call) => {
      const first = !sent.has(call.input.ClientRequestToken);
      sent.add(call.input.ClientRequestToken);
      return first && call.fault === "conflict";
    });
    expect(refusedFirstAttempts).toEqual([]);
    expect(creations.every((call) => !transactKeys(call).includes("#task"))).toBe(true);
    expect((await truth.readTask(taskId))?.imageCount).toBe(4 * 196);
  });

  it("a registration that dies after creating its images is counted once, by the next registration", async () => {
    const { faulty, truth } = await storesThrough(proxy().endpoint);
    const taskId = "died";
    const counts = (call: Pick<LoggedCall, "operation" | "input">) =>
      call.operation === "TransactWriteItems" && transactKeys(call).includes("#task") && !createsImages(call);
    let refused = 0;
    proxy().policy = (call) =>
      counts(call) && refused++ === 0 ? { kind: "error", status: 400, type: "ValidationException" } : undefined;

    const died = await faulty.registerImages({ taskId, images: images(taskId, 1, 50) }).catch((error) => error);
    const stored = await truth.readImages(taskId);
    const countAfterDeath = (await truth.readTask(taskId))?.imageCount ?? 0;
    const next = await faulty.registerImages({ taskId, images: images(taskId, 51, 10) });
    const retried = await faulty.registerImages({ taskId, images: images(taskId, 1, 50) });

    expect(refused).toBeGreaterThanOrEqual(1);
    expect(died).toMatchObject({ code: 1500 });
    expect(stored).toHaveLength(50);
    expect(countAfterDeath).toBe(0);
    expect(next).toMatchObject({ added: 10, total: 60 });
    expect(retried).toMatchObject({ added: 0, unchanged: 50, total: 60 });
    expect((await truth.readTask(taskId))?.imageCount).toBe(60);
  });

  it("a count settled by another registration while its own was in flight is counted once", async () => {
    const { faulty, truth } = await storesThrough(proxy().endpoint);
    const taskId = "settled-twice";
    const counts = (call: Pick<LoggedCall, "operation" | "input">) =>
      call.operation === "TransactWriteItems" && transactKeys(call).includes("#task") && !createsImages(call);
    const release = deferred();
    let held = 0;
    proxy().policy = (call) => (counts(call) && held++ === 0 ? { kind: "hold", until: release.promise } : undefined);

    // A's count is held after its images and marker are written; B, starting meanwhile, settles A's marker
    const first = faulty.registerImages({ taskId, images: images(taskId, 1, 30) });
    while (held === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await faulty.registerImages({ taskId, images: images(taskId, 31, 5) });
    release.resolve();
    const firstAnswer = await first;

    expect(second).toMatchObject({ added: 5, total: 35 });
    expect(firstAnswer).toMatchObject({ added: 30, total: 35 });
    expect((await truth.readTask(taskId))?.imageCount).toBe(35);
  });
});
