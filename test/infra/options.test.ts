import { readFileSync } from "node:fs";
import { App, RemovalPolicy } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { addTrainingSetsStack, STACK_ID } from "../../infra/build-app.ts";
import { readOptions } from "../../infra/options.ts";

const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

/** readOptions over cdk.json's context with `overrides` on top, as `-c key=value` would put them. */
const options = (overrides: Record<string, unknown> = {}) =>
  readOptions((key) => ({ ...cdkJson.context, ...overrides })[key]);

describe("stack options from CDK context", () => {
  it("cdk.json alone: stage dev, IAM auth, retain, 100/200 throttling, no CORS, no schedule, no alarm email, no guards", () => {
    expect(options()).toEqual({
      stage: "dev",
      auth: { type: "iam" },
      removalPolicy: RemovalPolicy.RETAIN,
      throttleRateLimit: 100,
      throttleBurstLimit: 200,
      corsOrigins: [],
      resplit: undefined,
      alarmEmail: undefined,
      splitReservedConcurrency: undefined,
      tableMaxReadRequestUnits: undefined,
      tableMaxWriteRequestUnits: undefined,
    });
  });

  it("is secure by default: IAM when auth is unset, whatever cdk.json says elsewhere", () => {
    expect(readOptions(() => undefined).auth).toEqual({ type: "iam" });
    expect(options({ "training-sets:auth": "" }).auth).toEqual({ type: "iam" });
  });

  it("reads auth as iam, none, or cognito:<user pool ARN>, and refuses anything else", () => {
    const arn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123";
    expect(options({ "training-sets:auth": "IAM" }).auth).toEqual({ type: "iam" });
    expect(options({ "training-sets:auth": "none" }).auth).toEqual({ type: "none" });
    expect(options({ "training-sets:auth": `cognito:${arn}` }).auth).toEqual({ type: "cognito", userPoolArn: arn });
    expect(() => options({ "training-sets:auth": "cognito:eu-west-1_AbCdEf123" })).toThrow(/auth must be/);
    expect(() => options({ "training-sets:auth": "open" })).toThrow(/auth must be "iam", "none" or "cognito:/);
  });

  it("reads the stage, and refuses one that cannot be part of a stack name", () => {
    expect(options({ "training-sets:stage": "prod" }).stage).toBe("prod");
    expect(() => options({ "training-sets:stage": "prod_1" })).toThrow(/stage must be/);
    expect(() => options({ "training-sets:stage": "1prod" })).toThrow(/stage must be/);
  });

  it("reads the alarm email, the split's reserved concurrency and the table's maximum throughput", () => {
    const read = options({
      "training-sets:alarmEmail": "oncall@example.com",
      "training-sets:splitReservedConcurrency": "20",
      "training-sets:tableMaxReadRequestUnits": 4000,
      "training-sets:tableMaxWriteRequestUnits": "1500",
    });
    expect(read).toMatchObject({
      alarmEmail: "oncall@example.com",
      splitReservedConcurrency: 20,
      tableMaxReadRequestUnits: 4000,
      tableMaxWriteRequestUnits: 1500,
    });
    expect(() => options({ "training-sets:alarmEmail": "oncall" })).toThrow(/alarmEmail must be an email/);
    expect(() => options({ "training-sets:splitReservedConcurrency": "2.5" })).toThrow(/a positive integer/);
    expect(() => options({ "training-sets:tableMaxWriteRequestUnits": 0 })).toThrow(/a positive integer/);
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

describe("the app's wiring", () => {
  const stackFor = (context: Record<string, unknown>) =>
    addTrainingSetsStack(new App({ context: { ...cdkJson.context, ...context, "aws:cdk:bundling-stacks": [] } }));

  it("names the stack after the stage: TrainingSets-dev by default, so dev and prod live in one account", () => {
    expect(stackFor({}).stackName).toBe("TrainingSets-dev");
    expect(stackFor({ "training-sets:stage": "prod" }).stackName).toBe("TrainingSets-prod");
  });

  it("keeps the construct id (and so cdk.out/TrainingSetsStack.template.json) whatever the stage", () => {
    expect(stackFor({ "training-sets:stage": "prod" }).artifactId).toBe(STACK_ID);
  });
});
