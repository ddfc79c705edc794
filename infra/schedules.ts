import { Aws, Duration, Stack, Validations } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { CfnScheduleGroup } from "aws-cdk-lib/aws-scheduler";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { ServiceFunction } from "./service-function.ts";

const SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com";

/** What lib/schedule/aws-engine.ts does to the schedules of its group, and nothing else. */
const SCHEDULE_ACTIONS = ["CreateSchedule", "UpdateSchedule", "GetSchedule", "DeleteSchedule"] as const;

/**
 * How long Lambda keeps a run it could not start yet (the run function's reserved concurrency
 * taken) before it gives up and sends it to the dead-letter queue: Lambda's maximum.
 */
export const RUN_MAX_EVENT_AGE = Duration.hours(6);

/** A failed run stays this long in the dead-letter queue: SQS's maximum. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

export interface TaskSchedulesProps {
  /** The function every schedule invokes (ResplitTasks). */
  readonly runFunction: ServiceFunction;
  /**
   * Its ARN, built from its name: the run function itself gets it as SCHEDULE_TARGET_ARN (a run of
   * an older revision writes its schedule again), and a function cannot refer to its own ARN.
   */
  readonly runFunctionArn: string;
}

/**
 * What runs the tasks' schedules in AWS (docs/operations.md "Scheduled re-splits"): a schedule group named after the stack,
 * holding one EventBridge Scheduler schedule per task; the role Scheduler assumes to invoke the
 * run function; and one dead-letter queue for runs that never happened or failed. A failed run is
 * not retried, by Scheduler (each schedule's retry policy is 0, set by lib/schedule/aws-engine.ts)
 * nor by Lambda (no async retries here): the next scheduled time is the retry.
 */
export class TaskSchedules extends Construct {
  readonly groupName: string;
  readonly group: CfnScheduleGroup;
  readonly role: Role;
  readonly deadLetterQueue: Queue;
  readonly runFunctionArn: string;

  constructor(scope: Construct, id: string, props: TaskSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.runFunctionArn = props.runFunctionArn;
    this.groupName = stack.stackName;
    // Deleting the group deletes its schedules: with the stack, nothing is left to invoke a deleted function.
    this.group = new CfnScheduleGroup(this, "Group", { name: this.groupName });

    this.deadLetterQueue = new Queue(this, "DeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself a dead-letter queue: of the task schedules' targets (EventBridge Scheduler's DeadLetterConfig) and of the run function's asynchronous invocations (its on-failure destination), which name it outside any SQS redrive policy, where cdk-nag looks.",
    });

    this.role = new Role(this, "Role", {
      description: `training-sets ${stack.stackName}: EventBridge Scheduler invokes the run function of the task schedules`,
      assumedBy: new ServicePrincipal(SCHEDULER_PRINCIPAL, {
        conditions: {
          // Only schedules of this account's group may use the role (confused deputy).
          StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID, "aws:SourceArn": this.group.attrArn },
        },
      }),
    });
    this.role.addToPolicy(
      new PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [props.runFunctionArn] }),
    );
    this.role.addToPolicy(
      new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.deadLetterQueue.queueArn] }),
    );

    // Scheduler invokes the function asynchronously: Lambda's own retries would re-split with a new seed.
    props.runFunction.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: RUN_MAX_EVENT_AGE,
      onFailure: { bind: () => ({ destination: this.deadLetterQueue.queueArn }) },
    });
    props.runFunction.addToRolePolicy(
      new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.deadLetterQueue.queueArn] }),
    );
  }

  /** The ARN that covers every schedule of the group: their names are per task. */
  get schedulesArn(): string {
    return Stack.of(this).formatArn({
      service: "scheduler",
      resource: "schedule",
      resourceName: `${this.groupName}/*`,
    });
  }

  /**
   * Lets `fn` write the tasks' schedules: the settings lib/schedule/aws-engine.ts reads, the four
   * schedule actions on the group's schedules only, and passing the Scheduler role to Scheduler only.
   */
  allowWriting(fn: ServiceFunction): void {
    fn.addEnvironment("SCHEDULE_GROUP", this.groupName);
    fn.addEnvironment("SCHEDULE_ROLE_ARN", this.role.roleArn);
    fn.addEnvironment("SCHEDULE_TARGET_ARN", this.runFunctionArn);
    fn.addEnvironment("SCHEDULE_DLQ_ARN", this.deadLetterQueue.queueArn);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: SCHEDULE_ACTIONS.map((action) => `scheduler:${action}`),
        resources: [this.schedulesArn],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { "iam:PassedToService": SCHEDULER_PRINCIPAL } },
      }),
    );
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.groupName}/*]`,
      reason:
        "Each task has a schedule of its own, named from a hash of its key when the task is scheduled, so no name is known at deploy: the wildcard covers the schedules of this stack's group only, for the four actions the schedule API uses.",
    });
  }
}
