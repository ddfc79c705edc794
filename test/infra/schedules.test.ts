import { describe, expect, it } from "vitest";
import { DEAD_LETTER_RETENTION, RUN_MAX_EVENT_AGE } from "../../infra/schedules.ts";
import { FUNCTIONS, type FunctionName } from "../../lib/routes.ts";
import { readSchedulerSettings } from "../../lib/schedule/aws-engine.ts";
import { scheduleName } from "../../lib/schedule/index.ts";
import {
  COGNITO,
  dashboardWidgets,
  deployed,
  type Json,
  PRIVATE,
  roleStatements,
  type Synthesized,
  synth,
} from "./synth.ts";

// What runs the tasks' own schedules in AWS: the schedule group, the role EventBridge Scheduler
// assumes, the dead-letter queue and its alarm, the run function without async retries, and the
// settings and grants of the functions that write schedules (lib/schedule/aws-engine.ts).

const base = synth();
const prod = synth({ stackName: "TrainingSets-prod", stage: "prod" });

const SCHEDULE_VARIABLES = ["SCHEDULE_GROUP", "SCHEDULE_ROLE_ARN", "SCHEDULE_TARGET_ARN", "SCHEDULE_DLQ_ARN"];
const WRITERS = FUNCTIONS.filter((fn) => "scheduler" in fn && fn.scheduler).map((fn) => fn.name);

const idOf = (fixture: Synthesized, type: string) => {
  const found = fixture.ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0]![0];
};
const arnOf = (fixture: Synthesized, type: string) => ({ "Fn::GetAtt": [idOf(fixture, type), "Arn"] });
const schedulerRoleId = (fixture: Synthesized) =>
  fixture
    .ofType("AWS::IAM::Role")
    .filter(([, role]) => JSON.stringify(role.Properties!.AssumeRolePolicyDocument).includes("scheduler.amazonaws"))
    .map(([id]) => id);

/** `arn:${Partition}:<service>:${Region}:${AccountId}:<rest>` as the template writes it. */
const arnJoin = (service: string, rest: string) => ({
  "Fn::Join": [
    "",
    ["arn:", { Ref: "AWS::Partition" }, `:${service}:`, { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, rest],
  ],
});

/** The policy statements of a role by logical id. */
const statementsOfRole = (fixture: Synthesized, roleId: string): Json[] =>
  fixture
    .ofType("AWS::IAM::Policy")
    .filter(([, policy]) => (policy.Properties!.Roles as Json[]).some((ref) => ref.Ref === roleId))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Json[] }).Statement);

/** Does an IAM resource pattern (`*` any run of characters) cover this ARN? */
const covers = (pattern: string, arn: string) =>
  new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  ).test(arn);

describe("the schedule group", () => {
  it("is one group named after the stack, so each stage's schedules are apart", () => {
    expect(base.only("AWS::Scheduler::ScheduleGroup").Properties).toMatchObject({ Name: "TrainingSetsStack" });
    expect(prod.only("AWS::Scheduler::ScheduleGroup").Properties).toMatchObject({ Name: "TrainingSets-prod" });
  });

  it("is there under every auth setting", () => {
    for (const fixture of [synth({ auth: COGNITO }), synth({ auth: PRIVATE })]) {
      fixture.template.resourceCountIs("AWS::Scheduler::ScheduleGroup", 1);
    }
  });
});

describe("the role EventBridge Scheduler assumes", () => {
  const [roleId] = schedulerRoleId(base);

  it("is one role, trusted by Scheduler only, for schedules of this account's group only", () => {
    expect(schedulerRoleId(base)).toHaveLength(1);
    const role = base.resources[roleId!]!.Properties!;
    expect((role.AssumeRolePolicyDocument as Json).Statement).toEqual([
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Condition: {
          StringEquals: {
            "aws:SourceAccount": { Ref: "AWS::AccountId" },
            "aws:SourceArn": arnOf(base, "AWS::Scheduler::ScheduleGroup"),
          },
        },
      },
    ]);
    expect(role).not.toHaveProperty("ManagedPolicyArns");
    expect(role).not.toHaveProperty("Policies");
  });

  it("may invoke the run function and send to the dead-letter queue, and nothing else", () => {
    const statements = statementsOfRole(base, roleId!);
    expect(statements).toEqual([
      {
        Action: "lambda:InvokeFunction",
        Effect: "Allow",
        Resource: arnJoin("lambda", ":function:TrainingSetsStack-ResplitTasks"),
      },
      { Action: "sqs:SendMessage", Effect: "Allow", Resource: arnOf(base, "AWS::SQS::Queue") },
    ]);
  });
});

describe("the dead-letter queue", () => {
  const queue = base.only("AWS::SQS::Queue").Properties!;

  it("is encrypted (SQS managed keys), refuses plain HTTP, and keeps a message 14 days", () => {
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: DEAD_LETTER_RETENTION.toSeconds(),
    });
    expect(DEAD_LETTER_RETENTION.toDays()).toBe(14);
    const policy = base.only("AWS::SQS::QueuePolicy").Properties!;
    expect(policy.Queues).toEqual([{ Ref: idOf(base, "AWS::SQS::Queue") }]);
    expect((policy.PolicyDocument as Json).Statement).toEqual([
      {
        Action: "sqs:*",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Resource: arnOf(base, "AWS::SQS::Queue"),
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("has an alarm into the alarm topic as soon as one message is visible, until the queue is emptied", () => {
    const construct = base.stack.monitoring.alarms.ScheduleDeadLetters;
    expect(construct).toBeDefined();
    const alarm = base.resources[base.stack.getLogicalId(construct!.node.defaultChild as never)]!.Properties!;
    const topic = { Ref: idOf(base, "AWS::SNS::Topic") };
    expect(alarm).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [idOf(base, "AWS::SQS::Queue"), "QueueName"] } }],
      Statistic: "Maximum",
      Period: 300,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
      EvaluationPeriods: 1,
      TreatMissingData: "notBreaching",
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });
});

describe("the operator's view", () => {
  it("has the dead-letter queue's URL as an output", () => {
    base.template.hasOutput("ScheduleDeadLetterQueueUrl", { Value: { Ref: idOf(base, "AWS::SQS::Queue") } });
  });

  it("shows on the dashboard the runs Scheduler invoked and Lambda refused in the group, and the queue's depth", () => {
    const widget = dashboardWidgets(base).find((candidate) => candidate.properties.title === "Scheduled runs");
    expect(widget?.properties.metrics).toEqual([
      ["AWS/Scheduler", "InvocationAttemptCount", "ScheduleGroup", "TrainingSetsStack", expect.anything()],
      ["AWS/Scheduler", "TargetErrorCount", "ScheduleGroup", "TrainingSetsStack", expect.anything()],
      [
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        `<${idOf(base, "AWS::SQS::Queue")}.QueueName>`,
        expect.objectContaining({ stat: "Maximum", yAxis: "right" }),
      ],
    ]);
  });
});

describe("the run function (ResplitTasks)", () => {
  it("has no asynchronous retries: a failure, or a run older than 6 hours, goes to the dead-letter queue", () => {
    expect(base.only("AWS::Lambda::EventInvokeConfig").Properties).toEqual({
      FunctionName: { Ref: "ResplitTasks" },
      Qualifier: "$LATEST",
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: RUN_MAX_EVENT_AGE.toSeconds(),
      DestinationConfig: { OnFailure: { Destination: arnOf(base, "AWS::SQS::Queue") } },
    });
    expect(RUN_MAX_EVENT_AGE.toHours()).toBe(6);
  });

  it("may send to that queue only (its on-failure destination), with no other SQS action", () => {
    const sqs = roleStatements(base, "ResplitTasks").filter((statement) =>
      JSON.stringify(statement.Action).includes("sqs:"),
    );
    expect(sqs).toEqual([{ Action: "sqs:SendMessage", Effect: "Allow", Resource: arnOf(base, "AWS::SQS::Queue") }]);
  });

  it("is named after the stack, so that its ARN is known to the functions that write schedules, itself included", () => {
    expect(base.resources.ResplitTasks!.Properties!.FunctionName).toBe("TrainingSetsStack-ResplitTasks");
    expect(prod.resources.ResplitTasks!.Properties!.FunctionName).toBe("TrainingSets-prod-ResplitTasks");
    expect(deployed(prod.environment("ResplitTasks").SCHEDULE_TARGET_ARN)).toBe(
      "arn:aws:lambda:eu-west-1:123456789012:function:TrainingSets-prod-ResplitTasks",
    );
  });
});

describe("the functions that write schedules", () => {
  it("are the PUT and DELETE of a schedule, and the run function (a run of an older revision writes it again)", () => {
    expect([...WRITERS].sort()).toEqual(["DeleteSchedule", "ResplitTasks", "SetSchedule"]);
  });

  it("get the four scheduler settings, which lib/schedule/aws-engine.ts reads; the others get none", () => {
    for (const fn of FUNCTIONS) {
      const variables = base.environment(fn.name);
      const present = SCHEDULE_VARIABLES.filter((name) => name in variables);
      expect(present, fn.name).toEqual(WRITERS.includes(fn.name) ? SCHEDULE_VARIABLES : []);
    }
    for (const name of WRITERS) {
      const variables = base.environment(name);
      expect(variables, name).toMatchObject({
        SCHEDULE_GROUP: "TrainingSetsStack",
        SCHEDULE_ROLE_ARN: { "Fn::GetAtt": [schedulerRoleId(base)[0], "Arn"] },
        SCHEDULE_TARGET_ARN: arnJoin("lambda", ":function:TrainingSetsStack-ResplitTasks"),
        SCHEDULE_DLQ_ARN: arnOf(base, "AWS::SQS::Queue"),
      });
      const env = Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, deployed(value)]));
      expect(readSchedulerSettings(env), name).toEqual({
        groupName: "TrainingSetsStack",
        roleArn: `<${schedulerRoleId(base)[0]}.Arn>`,
        targetArn: "arn:aws:lambda:eu-west-1:123456789012:function:TrainingSetsStack-ResplitTasks",
        deadLetterArn: `<${idOf(base, "AWS::SQS::Queue")}.Arn>`,
      });
    }
  });

  it("may create, update, read and delete the schedules of the group, and pass the Scheduler role to Scheduler only", () => {
    for (const name of WRITERS) {
      const statements = roleStatements(base, name).filter((statement) =>
        /"(scheduler|iam):/.test(JSON.stringify(statement.Action)),
      );
      expect(statements, name).toEqual([
        {
          Action: [
            "scheduler:CreateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:GetSchedule",
            "scheduler:UpdateSchedule",
          ],
          Effect: "Allow",
          Resource: arnJoin("scheduler", ":schedule/TrainingSetsStack/*"),
        },
        {
          Action: "iam:PassRole",
          Effect: "Allow",
          Resource: { "Fn::GetAtt": [schedulerRoleId(base)[0], "Arn"] },
          Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
        },
      ]);
    }
  });

  it("cover the schedule of any task the engine names, in their group only", () => {
    const pattern = deployed(arnJoin("scheduler", ":schedule/TrainingSetsStack/*"));
    const schedule = (group: string, taskKey: string) =>
      `arn:aws:scheduler:eu-west-1:123456789012:schedule/${group}/${scheduleName(taskKey)}`;
    for (const taskKey of ["2018062212345678911", "abcdefghijklmnopqrstuvwxyz#task_1"]) {
      expect(covers(pattern, schedule("TrainingSetsStack", taskKey)), taskKey).toBe(true);
      expect(covers(pattern, schedule("TrainingSets-prod", taskKey)), taskKey).toBe(false);
    }
  });

  it("are the only functions with any scheduler or iam action", () => {
    for (const fn of FUNCTIONS.filter((candidate) => !WRITERS.includes(candidate.name))) {
      const actions = roleStatements(base, fn.name).flatMap((statement) => [statement.Action].flat() as string[]);
      expect(
        actions.filter((action) => /^(scheduler|iam):/.test(action)),
        fn.name,
      ).toEqual([]);
    }
  });
});

describe("cdk-nag", () => {
  it("passes with schedules under every auth setting, and with a customer managed key", () => {
    for (const fixture of [
      base,
      prod,
      synth({ auth: COGNITO }),
      synth({ auth: PRIVATE }),
      synth({ tableEncryption: "customer-managed" }),
    ]) {
      expect(fixture.unacknowledged()).toEqual([]);
    }
  });

  it("has the schedule wildcard acknowledged on the writers' roles only, and the queue's rule on the queue", () => {
    const acknowledged = base.acknowledgements();
    const wildcard = acknowledged.filter((entry) => entry.id.includes(":schedule/"));
    expect(wildcard.map((entry) => entry.path.split("/")[1]).sort()).toEqual(
      WRITERS.map((name: FunctionName) => `${name}Role`).sort(),
    );
    for (const entry of wildcard) {
      expect(entry.id).toBe(
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/TrainingSetsStack/*]",
      );
      expect(entry.reason).toContain("schedule of its own");
    }
    const queue = acknowledged.filter((entry) => entry.id === "AwsSolutions-SQS3");
    expect(queue.map((entry) => entry.path)).toEqual(["TrainingSetsStack/TaskSchedules/DeadLetters"]);
  });
});
