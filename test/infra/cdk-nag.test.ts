import { describe, expect, it } from "vitest";
import { isOpen } from "../../infra/api-access.ts";
import { ROUTES } from "../../lib/routes.ts";
import { COGNITO, type StackFixture, synth } from "./stack-fixture.ts";

const base = synth();
const cognito = synth({ auth: COGNITO });
const open = synth({ auth: { type: "none", vpcEndpointIds: ["vpce-0a1b2c3d4e5f60718"] } });

describe("cdk-nag AwsSolutions", () => {
  const acknowledgements = (fixture: StackFixture) => fixture.acknowledgements();
  const report = (fixture: StackFixture) => fixture.unacknowledged();

  it("report nothing unacknowledged for the default (iam) setting", () => {
    expect(report(base)).toEqual([]);
  });

  it("report nothing unacknowledged under cognito, none, or with CORS and an alarm address either", () => {
    expect(report(cognito)).toEqual([]);
    expect(report(open)).toEqual([]);
    const full = synth({
      corsOrigins: ["https://label.example.com"],
      alarmEmail: "oncall@example.com",
    });
    expect(report(full)).toEqual([]);
  });

  it("are acknowledged only where allowed, each with a reason; never access logs, execution logs, managed policies, nor wildcards but the schedules'", () => {
    const acks = acknowledgements(base);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.reason.trim().length, `${ack.id} at ${ack.path}`).toBeGreaterThan(40);
    const ids = new Set(acks.map((ack) => ack.id.replace(/\[.*$/, "")));
    expect([...ids].sort()).toEqual(
      [
        "AwsSolutions-APIG2", // validation stays in the functions (legacy messages and rule order)
        "AwsSolutions-APIG4", // the open routes only (below)
        "AwsSolutions-COG4", // IAM, not Cognito, under `iam`
        "AwsSolutions-DDB3", // no PITR on the idempotency table
        "AwsSolutions-IAM5", // the group's schedules, named per task (below)
        "AwsSolutions-SNS2", // alarms cannot publish to an SNS-managed-key topic
        "AwsSolutions-SQS3", // the dead-letter queue is one itself
      ].sort(),
    );
    const wildcards = new Set(acks.filter((ack) => ack.id.startsWith("AwsSolutions-IAM5")).map((ack) => ack.id));
    expect([...wildcards]).toEqual([
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/TrainingSetsStack/*]",
    ]);
    // authorization is acknowledged on the open routes' methods only
    const apig4 = acks.filter((ack) => ack.id === "AwsSolutions-APIG4");
    expect(apig4.map((ack) => ack.path).sort()).toEqual(
      ROUTES.filter(isOpen)
        .map((route) => base.stack.methods[route.name]!.node.path)
        .sort(),
    );
    for (const ack of apig4) expect(ack.reason).toMatch(/has no table and holds no data/);
  });

  it("find a method left without authorization", () => {
    // the check can fail: a stack with one more, unauthorized method is reported (APIG4 and COG4)
    const probe = synth();
    probe.stack.api.root.addResource("probe").addMethod("GET");
    const rules = report(probe).map((violation) => violation.rule);
    expect(rules).toContain("AwsSolutions-APIG4");
    expect(rules).toContain("AwsSolutions-COG4");
  });
});
