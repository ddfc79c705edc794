import { describe, expect, it } from "vitest";
import { capList, truncated } from "../../../lib/capped.ts";
import { carriedBytes } from "../../../lib/http/answer-size.ts";
import { splitResponse } from "../../../lib/http/answers.ts";
import type { Capped, LabelCount, SplitResult } from "../../../lib/model.ts";

/** Each of these is `\"a\"` in an answer as Lambda carries it: 5 bytes, and a comma after it. */
const LETTERS = ["a", "b", "c"];

describe("capList", () => {
  it("counts the brackets and each entry with a comma: k one-letter entries measure 2 + 6k bytes", () => {
    expect(capList(LETTERS, 20)).toEqual({ items: ["a", "b", "c"], total: 3 });
    expect(capList(LETTERS, 19)).toEqual({ items: ["a", "b"], total: 3 });
    expect(capList(LETTERS, 14)).toEqual({ items: ["a", "b"], total: 3 });
    expect(capList(LETTERS, 13)).toEqual({ items: ["a"], total: 3 });
    expect(capList(LETTERS, 8)).toEqual({ items: ["a"], total: 3 });
    expect(capList(LETTERS, 7)).toEqual({ items: [], total: 3 });
  });

  it("keeps entries full of quotes, backslashes and 4-byte characters within the cap as an answer carries them, and stops at the first that does not fit", () => {
    const names = Array.from({ length: 300 }, (_, i) => `${i}${'"\\𠜎'.repeat(1 + (i % 40))}`);
    const maxBytes = 2_000;

    const capped = capList(names, maxBytes);

    expect(capped.total).toBe(300);
    expect(capped.items).toEqual(names.slice(0, capped.items.length));
    expect(carriedBytes(capped.items)).toBeLessThanOrEqual(maxBytes);
    expect(carriedBytes(names.slice(0, capped.items.length + 1)) + 1).toBeGreaterThan(maxBytes);
  });
});

describe("truncated", () => {
  it("is true only when entries were left out", () => {
    expect(truncated({ items: ["a", "b"], total: 2 })).toBe(false);
    expect(truncated({ items: [], total: 0 })).toBe(false);
    expect(truncated({ items: ["a"], total: 2 })).toBe(true);
  });
});

describe("a split answer's capped lists", () => {
  const count = (label: string): LabelCount => ({ label, sizes: { 0: 1, 1: 0, 2: 0 }, unassigned: 0 });
  const answerWith = (labelCounts: Capped<LabelCount>, leakedGroups: Capped<string>) =>
    splitResponse(
      {
        taskId: "t1",
        drawn: { 0: ["i1"], 1: [], 2: [] },
        sizes: { 0: 1, 1: 0, 2: 0 },
        unassignedCount: 0,
        seed: "s",
        version: 1,
        details: {
          algorithm: "v1",
          requested: { 0: 1, 1: 0, 2: 0 },
          achieved: { 0: 1, 1: 0, 2: 0 },
          labelCounts,
          rareLabelPolicy: "training",
          rareLabels: { items: [], total: 0 },
          moved: 0,
          newlyAssigned: 1,
          leakedGroups,
          heldBack: 0,
          dryRun: false,
        },
      } satisfies SplitResult,
      { withDetails: true, maxAnswerBytes: 1_000_000 },
    );

  it("a whole list has no _total or _truncated", () => {
    const answer = answerWith({ items: [count("cat")], total: 1 }, { items: ["g1"], total: 1 });

    expect(answer.label_counts).toEqual([{ label: "cat", training: 1, verifying: 0, testing: 0, unassigned: 0 }]);
    expect(answer.leaked_groups).toEqual(["g1"]);
    expect(Object.keys(answer).filter((key) => key.endsWith("_total") || key.endsWith("_truncated"))).toEqual([]);
  });

  it("a cut list says how many entries there were and that it was cut", () => {
    const answer = answerWith({ items: [count("cat")], total: 3 }, { items: [], total: 2 });

    expect(answer).toMatchObject({
      label_counts: [{ label: "cat", training: 1, verifying: 0, testing: 0, unassigned: 0 }],
      label_counts_total: 3,
      label_counts_truncated: true,
      leaked_groups: [],
      leaked_groups_total: 2,
      leaked_groups_truncated: true,
    });
  });
});
