import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../lib/config.ts";
import { startApi } from "../support/http.ts";
import { localClient } from "../support/store.ts";

let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api.close());

const SETS = "/training/tasks/sets";
type Info = { img_id: string; img_name: string; state: number; order_id: number };

/** Registers `n` images; `label(i)` / `group(i)` give each image's label and group. */
async function registerTask(taskId: string, n: number, extra: (i: number) => Record<string, string> = () => ({})) {
  const images = Array.from({ length: n }, (_, i) => ({
    img_id: `${taskId}-${i}`,
    img_name: `img_${i}.jpg`,
    ...extra(i),
  }));
  const reply = await api.call("POST", "/training/tasks/images", { task_id: taskId, images });
  expect(reply.status).toBe(200);
}

const put = async (body: Record<string, unknown>) => {
  const reply = await api.call("PUT", SETS, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
};

/** The three sets as listed by GET, by set name. */
async function listed(taskId: string) {
  const sets: Record<string, string[]> = {};
  for (const [name, setType] of [
    ["training", 0],
    ["testing", 1],
    ["verifying", 2],
  ] as const) {
    const reply = await api.call("GET", `${SETS}?task_id=${taskId}&set_type_id=${setType}`);
    sets[name] = reply.status === 404 ? [] : (reply.body.img_info_list as Info[]).map((i) => i.img_id);
  }
  return sets as { training: string[]; verifying: string[]; testing: string[] };
}

describe("split modes over HTTP", () => {
  it("ratios give largest-remainder sizes that add up, and the planner's account", async () => {
    await registerTask("ratios", 11);

    const body = await put({ task_id: "ratios", ratios: { training: 0.7, verifying: 0.2, testing: 0.1 }, seed: "r" });

    const sizes = body.achieved_sizes as { training: number; verifying: number; testing: number };
    expect(sizes.training + sizes.verifying + sizes.testing + (body.unassigned_count as number)).toBe(11);
    expect(sizes).toEqual(body.requested_sizes);
    expect(body.img_ids_set_training).toHaveLength(sizes.training);
    expect(body.dry_run).toBe(false);
    expect(body.algorithm).toBe("v1");
    const sets = await listed("ratios");
    expect(sets.training.sort()).toEqual([...(body.img_ids_set_training as string[])].sort());
  });

  it("ratios together with counts is 1017", async () => {
    const reply = await api.call("PUT", SETS, {
      task_id: "ratios",
      training_count: 1,
      ratios: { training: 0.5, verifying: 0, testing: 0 },
    });

    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe(1017);
  });

  it("stratify_by label gives each set each label in proportion, as GET confirms", async () => {
    const label = (i: number) => (i % 4 === 0 ? "cat" : "dog");
    await registerTask("strata", 40, (i) => ({ label: label(i) }));

    const body = await put({
      task_id: "strata",
      training_count: 20,
      verifying_count: 10,
      testing_count: 10,
      stratify_by: "label",
      seed: "s",
    });

    // 10 cats and 30 dogs over 20/10/10: each label gets the floor or ceiling of its share of each set.
    const [cat, dog] = body.label_counts as { label: string; training: number; verifying: number; testing: number }[];
    expect([cat?.label, cat?.training, dog?.label, dog?.training]).toEqual(["cat", 5, "dog", 15]);
    expect([cat?.verifying, cat?.testing].sort()).toEqual([2, 3]);
    expect([dog?.verifying, dog?.testing].sort()).toEqual([7, 8]);
    expect((cat?.verifying ?? 0) + (dog?.verifying ?? 0)).toBe(10);
    const sets = await listed("strata");
    const labelOf = (id: string) => label(Number(id.split("-")[1]));
    for (const count of body.label_counts as {
      label: string;
      training: number;
      verifying: number;
      testing: number;
    }[]) {
      expect(sets.training.filter((id) => labelOf(id) === count.label)).toHaveLength(count.training);
      expect(sets.verifying.filter((id) => labelOf(id) === count.label)).toHaveLength(count.verifying);
      expect(sets.testing.filter((id) => labelOf(id) === count.label)).toHaveLength(count.testing);
      // 10 cats and 30 dogs over 20/10/10: cats 5 + 2.5 + 2.5, dogs 15 + 7.5 + 7.5, rounded to keep totals exact.
      expect(count.verifying + count.testing).toBe(count.label === "cat" ? 5 : 15);
      expect(Math.abs(count.verifying - count.testing)).toBe(1);
    }
  });

  it("group_by keeps every group in one set and reports requested and achieved sizes", async () => {
    const group = (i: number) => `g${i % 7}`;
    await registerTask("groups", 70, (i) => ({ group: group(i) }));

    const body = await put({
      task_id: "groups",
      training_count: 50,
      verifying_count: 10,
      testing_count: 10,
      group_by: "group",
      seed: "g",
    });

    expect(body.leaked_groups).toEqual([]);
    expect(body.requested_sizes).toEqual({ training: 50, verifying: 10, testing: 10 });
    const sets = await listed("groups");
    const setOfGroup = new Map<string, string>();
    for (const [name, ids] of Object.entries(sets)) {
      for (const id of ids) {
        const g = group(Number(id.split("-")[1]));
        expect(setOfGroup.get(g) ?? name).toBe(name);
        setOfGroup.set(g, name);
      }
    }
    expect(body.achieved_sizes).toEqual({
      training: sets.training.length,
      verifying: sets.verifying.length,
      testing: sets.testing.length,
    });
  });

  it("mode keep leaves assigned images where they are and places only the new ones", async () => {
    await registerTask("keep", 20);
    await put({ task_id: "keep", training_count: 10, verifying_count: 3, testing_count: 2, seed: "k" });
    const before = await listed("keep");
    await api.call("POST", "/training/tasks/images", {
      task_id: "keep",
      images: Array.from({ length: 10 }, (_, i) => ({ img_id: `keep-new-${i}`, img_name: `new_${i}.jpg` })),
    });

    const body = await put({
      task_id: "keep",
      training_count: 20,
      verifying_count: 5,
      testing_count: 4,
      mode: "keep",
      seed: "k2",
    });

    const after = await listed("keep");
    expect(body.moved_count).toBe(0);
    for (const name of ["training", "verifying", "testing"] as const) {
      expect(after[name]).toEqual(expect.arrayContaining(before[name]));
    }
    expect([after.training.length, after.verifying.length, after.testing.length]).toEqual([20, 5, 4]);
  });

  it("lock_testing keeps the testing set exactly and reshuffles the rest", async () => {
    await registerTask("locked", 30);
    await put({ task_id: "locked", training_count: 20, verifying_count: 5, testing_count: 5, seed: "l1" });
    const before = await listed("locked");

    await put({
      task_id: "locked",
      training_count: 20,
      verifying_count: 5,
      testing_count: 5,
      lock_testing: true,
      seed: "l2",
    });

    const after = await listed("locked");
    expect(after.testing).toEqual(before.testing);
    expect(after.training).not.toEqual(before.training);
  });

  it("dry_run answers the would-be split and leaves the table exactly as it was", async () => {
    await registerTask("dry", 15);
    await put({ task_id: "dry", training_count: 10, verifying_count: 3, testing_count: 2, seed: "d1" });
    const scan = async () => {
      const out = await localClient().send(
        new ScanCommand({ TableName: readConfig().tableName, ConsistentRead: true }),
      );
      return JSON.stringify(out.Items?.filter((item) => item.task_id?.S === "dry"));
    };
    const before = await scan();
    const live = await listed("dry");

    const body = await put({
      task_id: "dry",
      training_count: 5,
      verifying_count: 5,
      testing_count: 5,
      dry_run: true,
      seed: "d2",
    });

    expect(body.dry_run).toBe(true);
    expect(body.achieved_sizes).toEqual({ training: 5, verifying: 5, testing: 5 });
    // moved: images in a set before that the dry run puts in another set or in none
    const setOf = (sets: Record<string, string[]>, id: string) =>
      Object.entries(sets).find(([, ids]) => ids.includes(id))?.[0];
    const planned = {
      training: body.img_ids_set_training as string[],
      verifying: body.img_ids_set_verifying as string[],
      testing: body.img_ids_set_testing as string[],
    };
    const moved = Object.values(live)
      .flat()
      .filter((id) => setOf(planned, id) !== setOf(live, id)).length;
    expect(moved).toBeGreaterThan(0);
    expect(body.moved_count).toBe(moved);
    expect(await scan()).toBe(before);
  });

  it("GET without set_type_id summarises the live split and the recent ones, newest first", async () => {
    await registerTask("summary", 12, (i) => ({ label: i % 2 ? "a" : "b" }));
    await put({ task_id: "summary", training_count: 6, verifying_count: 3, testing_count: 3, seed: "one" });
    await put({
      task_id: "summary",
      ratios: { training: 0.5, verifying: 0.25, testing: 0 },
      stratify_by: "label",
      seed: "two",
    });

    const reply = await api.call("GET", `${SETS}?task_id=summary`);

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      code: 0,
      task_id: "summary",
      image_count: 12,
      split: {
        seed: "two",
        algorithm: "v1",
        mode: "fresh",
        options: { stratify_by: "label", group_by: null, rare_labels: "training", lock_testing: false },
        ratios: { training: 0.5, verifying: 0.25, testing: 0 },
        requested_sizes: { training: 6, verifying: 3, testing: 0 },
        unassigned_count: 3,
        leaked_groups: [],
      },
    });
    expect((reply.body.history as { seed: string }[]).map((h) => h.seed)).toEqual(["two", "one"]);
    const never = await api.call("GET", `${SETS}?task_id=nothing-registered`);
    expect(never.status).toBe(404);
    expect(never.body.code).toBe(1003);
  });
});
