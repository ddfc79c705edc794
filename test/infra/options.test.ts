import { readFileSync } from "node:fs";
import { RemovalPolicy } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { readOptions } from "../../infra/options.ts";

const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

/** readOptions over cdk.json's context with `overrides` on top, as `-c key=value` would put them. */
const options = (overrides: Record<string, unknown> = {}) =>
  readOptions((key) => ({ ...cdkJson.context, ...overrides })[key]);

describe("stack options from CDK context", () => {
  it("cdk.json alone: retain, 100/200 throttling, no CORS, no re-split schedule", () => {
    expect(options()).toEqual({
      removalPolicy: RemovalPolicy.RETAIN,
      throttleRateLimit: 100,
      throttleBurstLimit: 200,
      corsOrigins: [],
      resplit: undefined,
    });
  });

  it("takes a schedule and comma-separated task ids from the command line", () => {
    const read = options({
      "training-sets:resplitSchedule": "rate(1 day)",
      "training-sets:resplitTaskIds": "2018062212345678911, 2018072049434026765,2018062212345678911",
    });

    expect(read.resplit).toEqual({ schedule: "rate(1 day)", taskIds: ["2018062212345678911", "2018072049434026765"] });
  });

  it("takes task ids as a JSON array, from cdk.json or as a -c string", () => {
    const schedule = { "training-sets:resplitSchedule": "cron(0 3 * * ? *)" };

    expect(options({ ...schedule, "training-sets:resplitTaskIds": ["a-1", "b_2"] }).resplit?.taskIds).toEqual([
      "a-1",
      "b_2",
    ]);
    expect(options({ ...schedule, "training-sets:resplitTaskIds": '["a-1","b_2"]' }).resplit?.taskIds).toEqual([
      "a-1",
      "b_2",
    ]);
  });

  it("refuses a schedule without task ids, and task ids without a schedule", () => {
    expect(() => options({ "training-sets:resplitSchedule": "rate(1 day)" })).toThrow(/resplitTaskIds must be set/);
    expect(() => options({ "training-sets:resplitTaskIds": "2018062212345678911" })).toThrow(
      /resplitSchedule must be set/,
    );
  });

  it("refuses a schedule that is not rate(…) or cron(…)", () => {
    expect(() =>
      options({ "training-sets:resplitSchedule": "every day", "training-sets:resplitTaskIds": "a1" }),
    ).toThrow(/resplitSchedule must be an EventBridge rate/);
  });

  it("refuses a malformed task id, and a 19-digit id written as a JSON number (it has lost its digits)", () => {
    const schedule = { "training-sets:resplitSchedule": "rate(1 day)" };

    expect(() => options({ ...schedule, "training-sets:resplitTaskIds": "ok,not ok" })).toThrow(/resplitTaskIds/);
    expect(() => options({ ...schedule, "training-sets:resplitTaskIds": "[2018062212345678911]" })).toThrow(
      /as strings/,
    );
  });

  it("reads CORS origins as a list or a comma-separated string", () => {
    expect(options({ "training-sets:corsOrigins": "https://a.example, https://b.example" }).corsOrigins).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
  });
});
