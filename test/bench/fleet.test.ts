import { describe, expect, it } from "vitest";
import { drainOf, outcomeOf, percentile, spreadOf, tallyOutcomes, tallyText } from "../../bench/fleet-summary.ts";
import type { ResplitResult } from "../../lib/split/resplit.ts";

const published: ResplitResult = {
  task_id: "t1",
  outcome: "split",
  version: 3,
  seed: "s",
  training_count: 700,
  verifying_count: 200,
  testing_count: 100,
  unassigned_count: 0,
};

describe("the fleet bench's summary", () => {
  it("takes nearest-rank percentiles without reordering the times it is given", () => {
    // Arrange
    const times = Array.from({ length: 20 }, (_, i) => 20 - i);

    // Act
    const spread = spreadOf(times);

    // Assert
    expect(spread).toEqual({ p50: 10, p95: 19, max: 20 });
    expect(times[0]).toBe(20);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("names a run's outcome by what it returned", () => {
    expect(outcomeOf([published])).toBe("published");
    expect(outcomeOf([{ task_id: "t1", outcome: "skipped", reason: "another split", code: 1008 }])).toBe(
      "skipped 1008",
    );
    expect(outcomeOf([{ task_id: "t1", outcome: "failed", reason: "storage", code: 1500 }])).toBe("failed 1500");
    expect(outcomeOf([{ task_id: "t1", outcome: "skipped", reason: "never split" }])).toBe("skipped");
    expect(outcomeOf([])).toBe("none");
  });

  it("counts the published runs and lists every other outcome, the most frequent first", () => {
    // Arrange
    const outcomes = ["published", "skipped 1008", "failed 1500", "published", "failed 1500", "none"];

    // Act
    const tally = tallyOutcomes(outcomes);

    // Assert
    expect(tally).toEqual({
      published: 2,
      others: [
        ["failed 1500", 2],
        ["none", 1],
        ["skipped 1008", 1],
      ],
    });
    expect(tallyText(tally)).toBe("2 published, failed 1500 ×2, none ×1, skipped 1008 ×1");
    expect(tallyText(tallyOutcomes(Array(1_000).fill("published")))).toBe("1,000 published");
  });

  it("drains a crowd of runs at the pace measured", () => {
    // Act
    const drain = drainOf({ runs: 1_000, elapsedMs: 300_000 }, 10_000);

    // Assert
    expect(drain.runsPerMinute).toBe(200);
    expect(drain.minutes).toBe(50);
  });
});
