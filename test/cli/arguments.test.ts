import { describe, expect, it } from "vitest";
import { commandLine, splitSummary } from "../../cli/arguments.ts";

describe("commandLine", () => {
  it("quotes what a shell would split and hides a token's value", () => {
    // Act
    const line = commandLine([
      "--token",
      "secret",
      "export",
      "--task",
      "42",
      "--out",
      "my sets/",
      "--token=s2",
      "it's",
    ]);

    // Assert
    expect(line).toBe("training-sets --token '<token>' export --task 42 --out 'my sets/' '--token=<token>' 'it'\\''s'");
    expect(line).not.toContain("secret");
  });
});

describe("splitSummary", () => {
  it("drops the lists of ids and counts them as set_sizes", () => {
    // Arrange
    const answer = {
      code: 0 as const,
      msg: "TaskImgRel 表 图像集合数据更新， 成功" as const,
      task_id: "42",
      img_ids_set_training: ["1", "2", "3"],
      img_ids_set_verifying: ["4"],
      img_ids_set_testing: [],
      unassigned_count: 1,
      seed: "demo",
      version: 3,
    };

    // Act
    const summary = splitSummary(answer);

    // Assert
    expect(summary).toEqual({
      code: 0,
      msg: answer.msg,
      task_id: "42",
      unassigned_count: 1,
      seed: "demo",
      version: 3,
      set_sizes: { training: 3, verifying: 1, testing: 0 },
    });
  });

  it("keeps the answer's set_sizes when the lists were left out of it", () => {
    // Act
    const summary = splitSummary({
      code: 0,
      msg: "TaskImgRel 表 图像集合数据更新， 成功",
      task_id: "42",
      ids_omitted: true,
      set_sizes: { training: 70_000, verifying: 20_000, testing: 10_000 },
      unassigned_count: 0,
      seed: "s",
      version: 1,
    });

    // Assert
    expect(summary).toMatchObject({
      ids_omitted: true,
      set_sizes: { training: 70_000, verifying: 20_000, testing: 10_000 },
    });
  });
});
