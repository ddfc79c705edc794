import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIST_BYTES } from "../../lib/capped.ts";
import { startApi } from "../support/http.ts";

let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api.close());

/** 128 characters of quotes, backslashes and 4-byte characters: a name at its most expensive to carry. */
const worstName = (i: number) => `${String(i).padStart(4, "0")}${'"\\𠜎'.repeat(41)}${"x".repeat(1)}`;

describe("lists in a split's answer and its summary are capped in bytes (guarantees 9 and 10)", () => {
  it("400 labels and 300 groups of worst-case names: label_counts and leaked_groups keep their first entries, with their totals and truncated, in the documented shape", async () => {
    // Arrange
    const taskId = "capped-lists";
    const images = Array.from({ length: 1_000 }, (_, i) => ({
      img_id: `c${i}`,
      img_name: `c${i}.jpg`,
      label: worstName(i % 400),
      group: worstName(i % 300),
    }));
    expect((await api.call("POST", "/training/tasks/images", { task_id: taskId, images })).status).toBe(200);

    // Act
    const stratified = await api.call("PUT", "/training/tasks/sets", {
      task_id: taskId,
      training_count: 600,
      verifying_count: 200,
      testing_count: 200,
      stratify_by: "label",
      rare_labels: "random",
    });
    const summary = await api.call("GET", `/training/tasks/sets?task_id=${taskId}`);

    // Assert (every answer is also checked against the OpenAPI document)
    expect(stratified.status).toBe(200);
    const labels = stratified.body.label_counts as unknown[];
    expect(stratified.body.label_counts_total).toBe(400);
    expect(stratified.body.label_counts_truncated).toBe(true);
    expect(labels.length).toBeGreaterThan(0);
    expect(labels.length).toBeLessThan(400);
    expect(Buffer.byteLength(JSON.stringify(JSON.stringify(labels)))).toBeLessThanOrEqual(LIST_BYTES + 2);
    const groups = stratified.body.leaked_groups as unknown[];
    expect(stratified.body.leaked_groups_truncated).toBe(true);
    expect(groups.length).toBeLessThan(stratified.body.leaked_groups_total as number);
    const live = summary.body.split as Record<string, unknown>;
    expect(live.label_counts).toEqual(labels);
    expect(live.leaked_groups).toEqual(groups);
    expect(live.leaked_groups_total).toBe(stratified.body.leaked_groups_total);
  });
});
