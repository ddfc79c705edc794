import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, RemovalPolicy } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { addTrainingSetsStack, STACK_ID } from "../../infra/build-app.ts";
import { DEFAULTS } from "../../infra/defaults.ts";
import { readOptions } from "../../infra/options.ts";
import { SettingError } from "../../infra/setting-error.ts";

const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

/** readOptions over cdk.json's context with `overrides` on top, as `-c key=value` would put them. */
const options = (overrides: Record<string, unknown> = {}) =>
  readOptions((key) => ({ ...cdkJson.context, ...overrides })[key]);

describe("stack options from CDK context", () => {
  it("cdk.json alone: stage dev, IAM auth without tenancy, retain with deletion protection, 100/200 throttling, the web ACL and the guards at their defaults", () => {
    expect(options()).toEqual({
      stage: "dev",
      auth: { type: "iam" },
      tenancy: { mode: "off", claim: "custom:tenant" },
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
      tableEncryption: "aws-owned",
      throttleRateLimit: 100,
      throttleBurstLimit: 200,
      waf: { rateLimit: DEFAULTS.wafRateLimit },
      corsOrigins: [],
      alarmEmail: undefined,
      splitReservedConcurrency: DEFAULTS.splitReservedConcurrency,
      resplitReservedConcurrency: DEFAULTS.resplitReservedConcurrency,
      tableMaxReadRequestUnits: DEFAULTS.tableMaxReadRequestUnits,
      tableMaxWriteRequestUnits: DEFAULTS.tableMaxWriteRequestUnits,
      cloudWatchRole: false,
    });
    // an empty context reads the same as cdk.json's
    expect(readOptions(() => undefined)).toEqual(options());
  });

  it("is secure by default: IAM when auth is unset, whatever cdk.json says elsewhere", () => {
    expect(readOptions(() => undefined).auth).toEqual({ type: "iam" });
    expect(options({ "training-sets:auth": "" }).auth).toEqual({ type: "iam" });
  });

  it("reads auth as iam, none (with VPC endpoints), or cognito:<user pool ARN>, and refuses anything else", () => {
    const arn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123";
    expect(options({ "training-sets:auth": "IAM" }).auth).toEqual({ type: "iam" });
    expect(
      options({ "training-sets:auth": "none", "training-sets:vpcEndpointIds": "vpce-0a1b2c3d4e5f60718, vpce-1234abcd" })
        .auth,
    ).toEqual({ type: "none", vpcEndpointIds: ["vpce-0a1b2c3d4e5f60718", "vpce-1234abcd"] });
    expect(options({ "training-sets:auth": `cognito:${arn}` }).auth).toEqual({ type: "cognito", userPoolArn: arn });
    expect(() => options({ "training-sets:auth": "cognito:eu-west-1_AbCdEf123" })).toThrow(/auth must be/);
    expect(() => options({ "training-sets:auth": "open" })).toThrow(/auth must be "iam", "none" or "cognito:/);
  });

  it("refuses auth=none without VPC endpoint ids, in one line naming the fix: it would be a public API", () => {
    const refusal = () => options({ "training-sets:auth": "none" });
    expect(refusal).toThrow(SettingError);
    expect(refusal).toThrow(/^training-sets:auth=none needs training-sets:vpcEndpointIds \(.*open to the internet$/);
    expect(refusal).not.toThrow(/\n/);
    expect(() => options({ "training-sets:auth": "none", "training-sets:vpcEndpointIds": [] })).toThrow(
      /needs training-sets:vpcEndpointIds/,
    );
  });

  it("refuses a malformed VPC endpoint id, and endpoint ids under iam or cognito (those stay regional)", () => {
    expect(() =>
      options({ "training-sets:auth": "none", "training-sets:vpcEndpointIds": "vpce-0a1b2c3d,sg-12345678" }),
    ).toThrow(/vpcEndpointIds must be a list of VPC endpoint ids/);
    expect(() => options({ "training-sets:vpcEndpointIds": "vpce-0a1b2c3d" })).toThrow(
      /vpcEndpointIds must be unset unless training-sets:auth is none/,
    );
  });

  it("reads tenancy: claim (custom:tenant) under Cognito by default, off under IAM and none; account only under IAM", () => {
    const arn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123";
    const cognito = { "training-sets:auth": `cognito:${arn}` };
    const none = { "training-sets:auth": "none", "training-sets:vpcEndpointIds": "vpce-0a1b2c3d" };
    expect(options(cognito).tenancy).toEqual({ mode: "claim", claim: "custom:tenant" });
    expect(options({ ...cognito, "training-sets:tenantClaim": "custom:team" }).tenancy).toEqual({
      mode: "claim",
      claim: "custom:team",
    });
    expect(options({ ...cognito, "training-sets:tenancy": "off" }).tenancy.mode).toBe("off");
    expect(options({ "training-sets:tenancy": "account" }).tenancy.mode).toBe("account");
    expect(options(none).tenancy.mode).toBe("off");

    expect(() => options({ "training-sets:tenancy": "claim" })).toThrow(
      /^training-sets:tenancy must be "off" or "account" under training-sets:auth=iam, got "claim"$/,
    );
    expect(() => options({ ...cognito, "training-sets:tenancy": "account" })).toThrow(
      /tenancy must be "claim" or "off" under training-sets:auth=cognito/,
    );
    expect(() => options({ ...none, "training-sets:tenancy": "account" })).toThrow(
      /tenancy must be "off" under training-sets:auth=none/,
    );
    expect(() => options({ "training-sets:tenancy": "tenant" })).toThrow(/tenancy must be/);
  });

  it("refuses a tenant claim name that is longer than 128 characters or has spaces", () => {
    expect(options({ "training-sets:tenantClaim": "x".repeat(128) }).tenancy.claim).toHaveLength(128);
    expect(() => options({ "training-sets:tenantClaim": "x".repeat(129) })).toThrow(/tenantClaim must be a claim name/);
    expect(() => options({ "training-sets:tenantClaim": "custom: tenant" })).toThrow(/1–128 characters/);
  });

  it("reads the stage, and refuses one that cannot be part of a stack name", () => {
    expect(options({ "training-sets:stage": "prod" }).stage).toBe("prod");
    expect(() => options({ "training-sets:stage": "prod_1" })).toThrow(/stage must be/);
    expect(() => options({ "training-sets:stage": "1prod" })).toThrow(/stage must be/);
  });

  it('reads the alarm email, the reserved concurrencies and the table\'s maximum throughput, each turned off by "off"', () => {
    const read = options({
      "training-sets:alarmEmail": "oncall@example.com",
      "training-sets:splitReservedConcurrency": "20",
      "training-sets:resplitReservedConcurrency": "off",
      "training-sets:tableMaxReadRequestUnits": 4000,
      "training-sets:tableMaxWriteRequestUnits": "none",
    });
    expect(read).toMatchObject({
      alarmEmail: "oncall@example.com",
      splitReservedConcurrency: 20,
      resplitReservedConcurrency: false,
      tableMaxReadRequestUnits: 4000,
      tableMaxWriteRequestUnits: false,
    });
    expect(() => options({ "training-sets:alarmEmail": "oncall" })).toThrow(/alarmEmail must be an email/);
    expect(() => options({ "training-sets:splitReservedConcurrency": "2.5" })).toThrow(/a positive integer or "off"/);
    expect(() => options({ "training-sets:tableMaxWriteRequestUnits": 0 })).toThrow(/a positive integer/);
  });

  it("reads the web ACL: on by default with its rate per client IP, tunable within AWS's bounds, or off", () => {
    expect(options({ "training-sets:wafRateLimit": "2000" }).waf).toEqual({ rateLimit: 2000 });
    expect(options({ "training-sets:waf": "off" }).waf).toBe(false);
    expect(options({ "training-sets:waf": false }).waf).toBe(false);
    expect(() => options({ "training-sets:wafRateLimit": 9 })).toThrow(
      /^training-sets:wafRateLimit must be an integer from 10 to 2000000000, got 9$/,
    );
    expect(() => options({ "training-sets:waf": "maybe" })).toThrow(/waf must be "on" or "off"/);
  });

  it("protects the tables from deletion unless removalPolicy is destroy, and refuses protection with destroy", () => {
    expect(options({ "training-sets:removalPolicy": "destroy" }).deletionProtection).toBe(false);
    expect(options({ "training-sets:deletionProtection": "off" }).deletionProtection).toBe(false);
    expect(() =>
      options({ "training-sets:removalPolicy": "destroy", "training-sets:deletionProtection": "on" }),
    ).toThrow(/deletionProtection must be "off" with training-sets:removalPolicy=destroy/);
  });

  it("reads the tables' encryption and the CloudWatch role switch", () => {
    expect(options({ "training-sets:tableEncryption": "customer-managed" }).tableEncryption).toBe("customer-managed");
    expect(() => options({ "training-sets:tableEncryption": "kms" })).toThrow(
      /tableEncryption must be "aws-owned" or "customer-managed"/,
    );
    expect(options({ "training-sets:cloudWatchRole": "on" }).cloudWatchRole).toBe(true);
    expect(() => options({ "training-sets:cloudWatchRole": "yes" })).toThrow(/cloudWatchRole must be "on" or "off"/);
  });

  it("refuses the retired fixed-id re-split options, either one set, naming the per-task schedule and the loop", () => {
    const retired = [
      { "training-sets:resplitSchedule": "rate(1 day)" },
      { "training-sets:resplitTaskIds": "2018062212345678911,2018072049434026765" },
      { "training-sets:resplitTaskIds": ["2018062212345678911"] },
      { "training-sets:resplitSchedule": "cron(0 3 * * ? *)", "training-sets:resplitTaskIds": "2018062212345678911" },
    ];
    for (const context of retired) {
      expect(() => options(context), JSON.stringify(context)).toThrow(SettingError);
      expect(() => options(context), JSON.stringify(context)).toThrow(
        /^training-sets:resplit(Schedule|TaskIds) is gone: schedules are now per task, set each with PUT \/training\/tasks\/schedule or `training-sets set-schedule` \(docs\/operations\.md, "Scheduled re-splits", has the loop for a list of task ids\)$/,
      );
    }
  });

  it("reads the retired options left empty (an older cdk.json) as unset", () => {
    expect(options({ "training-sets:resplitSchedule": "", "training-sets:resplitTaskIds": [] })).toEqual(options());
    expect(options({ "training-sets:resplitSchedule": "  ", "training-sets:resplitTaskIds": "" })).toEqual(options());
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

  it("stops `cdk synth` on a setting it cannot build with one line on stderr, no stack trace", () => {
    const outdir = mkdtempSync(join(tmpdir(), "training-sets-refused-"));
    try {
      const run = spawnSync(process.execPath, ["--import", "tsx", "infra/app.ts"], {
        cwd: new URL("../../", import.meta.url),
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ "training-sets:auth": "none" }) },
        encoding: "utf8",
      });
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split("\n")).toEqual([
        expect.stringMatching(/^training-sets:auth=none needs training-sets:vpcEndpointIds/),
      ]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("stops `cdk synth` with one line when a retired re-split option is given on the command line", () => {
    const outdir = mkdtempSync(join(tmpdir(), "training-sets-retired-"));
    try {
      const run = spawnSync(process.execPath, ["--import", "tsx", "infra/app.ts"], {
        cwd: new URL("../../", import.meta.url),
        env: {
          ...process.env,
          CDK_OUTDIR: outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ "training-sets:resplitTaskIds": "2018062212345678911" }),
        },
        encoding: "utf8",
      });
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split("\n")).toEqual([
        expect.stringMatching(
          /^training-sets:resplitTaskIds is gone: schedules are now per task, .*PUT \/training\/tasks\/schedule/,
        ),
      ]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("keeps the construct id (and so cdk.out/TrainingSetsStack.template.json) whatever the stage", () => {
    expect(stackFor({ "training-sets:stage": "prod" }).artifactId).toBe(STACK_ID);
  });
});
