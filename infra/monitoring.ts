import { Duration, Validations } from "aws-cdk-lib";
import type { Stage } from "aws-cdk-lib/aws-apigateway";
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { type ITable, Operation } from "aws-cdk-lib/aws-dynamodb";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { API_TIMEOUT_SECONDS } from "../lib/routes.ts";

/** Every alarm looks at 5-minute periods. */
const PERIOD = Duration.minutes(5);

/** What the alarms watch: thresholds in one place, so docs/operations.md and the tests read the same numbers. */
const THRESHOLDS = {
  /** Share of the stage's requests answered 5xx (the `5XXError` average is that share). */
  api5xxRate: 0.05,
  /** p99 of the stage's latency, ms: the budget for the largest split (25 s) under API Gateway's 29 s. */
  apiLatencyP99Ms: 25_000,
  /** DynamoDB throttle events (read + write) in a period; storage retries them, so only a sustained run alarms. */
  throttleEvents: 1,
} as const;

export interface MonitoringProps {
  readonly stage: string;
  readonly apiStage: Stage;
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly table: ITable;
  readonly orderIndexName: string;
  readonly idempotencyTable: ITable;
  /** The tasks' schedules: their group (Scheduler's metrics) and the queue of failed runs. */
  readonly schedules: { readonly groupName: string; readonly deadLetterQueue: IQueue };
  /** When set, the alarm topic mails this address (the subscription must be confirmed once). */
  readonly alarmEmail?: string;
}

/**
 * Alarms on what breaks the service (API 5xx, latency near the 29 s limit, function errors and
 * throttles, DynamoDB throttling, a scheduled run that failed or never ran), an SNS topic they notify, and one dashboard. Only AWS's own
 * metrics, which cost nothing to publish: the alarms and the dashboard are what is billed.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  /** By construct id, e.g. `Api5xxRate`, `SplitTaskErrors`, `OrderIndexThrottles`. */
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    this.topic = new Topic(this, "AlarmTopic", {
      displayName: `training-sets ${props.stage} alarms`,
      // AwsSolutions-SNS3: publishing over plain HTTP is refused.
      enforceSSL: true,
    });
    Validations.of(this.topic).acknowledge({
      id: "AwsSolutions-SNS2",
      reason:
        "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed KMS key would cost 1 USD a month per stage; the messages carry only alarm names, states and metric values, no task data.",
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    const alarms: Record<string, Alarm> = {};
    const alarm = (
      alarmId: string,
      metric: IMetric,
      threshold: number,
      description: string,
      sustained = false,
      comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ): Alarm => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold,
        comparisonOperator,
        // Sustained: 2 of the last 3 periods (throttling that storage's retries did not absorb);
        // otherwise one period is enough.
        evaluationPeriods: sustained ? 3 : 1,
        datapointsToAlarm: sustained ? 2 : 1,
        // No requests, no errors: AWS publishes error and throttle metrics only when they happen.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `training-sets ${props.stage}: ${description}`,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms[alarmId] = created;
      return created;
    };

    const api = props.apiStage;
    alarm(
      "Api5xxRate",
      api.metricServerError({ statistic: Stats.AVERAGE, period: PERIOD }),
      THRESHOLDS.api5xxRate,
      `${THRESHOLDS.api5xxRate * 100}% or more of the API's answers in 5 minutes were 5xx (1500: storage failing or throttled past its retries, a function crashing or timing out).`,
    );
    alarm(
      "ApiLatencyP99",
      api.metricLatency({ statistic: Stats.p(99), period: PERIOD }),
      THRESHOLDS.apiLatencyP99Ms,
      `p99 latency of the API reached ${THRESHOLDS.apiLatencyP99Ms / 1000} s in 5 minutes; API Gateway stops waiting at ${API_TIMEOUT_SECONDS} s.`,
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ statistic: Stats.SUM, period: PERIOD }),
        1,
        `${name} failed (an unhandled error, a crash or a timeout; answered errors are not counted).`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ statistic: Stats.SUM, period: PERIOD }),
        1,
        `${name} was throttled by Lambda (account concurrency, or its reserved concurrency, ran out).`,
      );
    }

    // Read + write throttle events of a table or index; `key` keeps the ids apart on the shared graph.
    const throttleEvents = (key: string, label: string, dimensionsMap: Record<string, string>): MathExpression =>
      new MathExpression({
        expression: `FILL(${key}Read, 0) + FILL(${key}Write, 0)`,
        usingMetrics: {
          [`${key}Read`]: new Metric({
            namespace: "AWS/DynamoDB",
            metricName: "ReadThrottleEvents",
            dimensionsMap,
            statistic: Stats.SUM,
          }),
          [`${key}Write`]: new Metric({
            namespace: "AWS/DynamoDB",
            metricName: "WriteThrottleEvents",
            dimensionsMap,
            statistic: Stats.SUM,
          }),
        },
        label,
        period: PERIOD,
      });
    const tableThrottles = throttleEvents("table", "table", { TableName: props.table.tableName });
    const indexThrottles = throttleEvents("orderIndex", "order index", {
      TableName: props.table.tableName,
      GlobalSecondaryIndexName: props.orderIndexName,
    });
    const idempotencyThrottles = throttleEvents("idempotency", "idempotency table", {
      TableName: props.idempotencyTable.tableName,
    });
    const sustained =
      "in 2 of the last 3 five-minute periods; storage retries throttling, so this is throttling that lasts";
    alarm(
      "TableThrottles",
      tableThrottles,
      THRESHOLDS.throttleEvents,
      `the table throttled reads or writes ${sustained} (a hot task, or the table's maximum throughput).`,
      true,
    );
    alarm(
      "OrderIndexThrottles",
      indexThrottles,
      THRESHOLDS.throttleEvents,
      `the order index throttled ${sustained}; index write throttling also throttles registrations.`,
      true,
    );
    alarm(
      "IdempotencyTableThrottles",
      idempotencyThrottles,
      THRESHOLDS.throttleEvents,
      `the idempotency table throttled ${sustained}; keyed PUT and POST requests fail with it.`,
      true,
    );
    // Its failed conditions are normal (a key already in use), so only DynamoDB's own errors count.
    alarm(
      "IdempotencyTableErrors",
      props.idempotencyTable.metricSystemErrorsForOperations({
        operations: [Operation.GET_ITEM, Operation.PUT_ITEM, Operation.UPDATE_ITEM, Operation.DELETE_ITEM],
        period: PERIOD,
      }),
      1,
      "DynamoDB answered the idempotency store with server errors: keyed PUT and POST requests fail with 1500.",
    );
    const deadLetters = props.schedules.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: Stats.MAXIMUM,
      period: PERIOD,
    });
    // Fires while a message waits, recovers when the queue is emptied (or its messages expire).
    alarm(
      "ScheduleDeadLetters",
      deadLetters,
      0,
      "a scheduled run failed or never ran: its message waits in the schedules' dead-letter queue (docs/operations.md, Scheduled re-splits).",
      false,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    this.alarms = alarms;

    // EventBridge Scheduler's metrics of the schedules' group
    const schedulerMetric = (metricName: string, label: string) =>
      new Metric({
        namespace: "AWS/Scheduler",
        metricName,
        dimensionsMap: { ScheduleGroup: props.schedules.groupName },
        statistic: Stats.SUM,
        period: PERIOD,
        label,
      });
    const fns = Object.entries(props.functions);
    const perFunction = (metric: (fn: IFunction) => IMetric) => fns.map(([, fn]) => metric(fn));
    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: `TrainingSets-${props.stage}`,
      widgets: [
        [
          new GraphWidget({
            title: "API requests and errors",
            width: 8,
            left: [
              api.metricCount({ statistic: Stats.SUM, period: PERIOD, label: "requests" }),
              api.metricClientError({ statistic: Stats.SUM, period: PERIOD, label: "4xx" }),
              api.metricServerError({ statistic: Stats.SUM, period: PERIOD, label: "5xx" }),
            ],
          }),
          new GraphWidget({
            title: "API latency (ms)",
            width: 8,
            left: [
              api.metricLatency({ statistic: Stats.p(50), period: PERIOD, label: "p50" }),
              api.metricLatency({ statistic: Stats.p(99), period: PERIOD, label: "p99" }),
              api.metricIntegrationLatency({ statistic: Stats.p(99), period: PERIOD, label: "integration p99" }),
            ],
            leftAnnotations: [{ value: API_TIMEOUT_SECONDS * 1000, label: "API Gateway limit" }],
          }),
          new AlarmStatusWidget({ title: "Alarms", width: 8, height: 6, alarms: Object.values(alarms) }),
        ],
        [
          new GraphWidget({
            title: "Function errors",
            width: 8,
            left: perFunction((fn) => fn.metricErrors({ statistic: Stats.SUM, period: PERIOD })),
          }),
          new GraphWidget({
            title: "Function throttles",
            width: 8,
            left: perFunction((fn) => fn.metricThrottles({ statistic: Stats.SUM, period: PERIOD })),
          }),
          new GraphWidget({
            title: "Function duration p99 (ms)",
            width: 8,
            left: perFunction((fn) => fn.metricDuration({ statistic: Stats.p(99), period: PERIOD })),
          }),
        ],
        [
          new GraphWidget({
            title: "Scheduled runs",
            width: 24,
            left: [
              schedulerMetric("InvocationAttemptCount", "runs invoked"),
              schedulerMetric("TargetErrorCount", "invocations Lambda refused"),
            ],
            right: [deadLetters.with({ label: "in the dead-letter queue" })],
          }),
        ],
        [
          new GraphWidget({
            title: "DynamoDB throttle events",
            width: 12,
            left: [tableThrottles, indexThrottles, idempotencyThrottles],
          }),
          new GraphWidget({
            title: "Table capacity consumed",
            width: 12,
            left: [
              props.table.metricConsumedReadCapacityUnits({ statistic: Stats.SUM, period: PERIOD, label: "RCU" }),
              props.table.metricConsumedWriteCapacityUnits({ statistic: Stats.SUM, period: PERIOD, label: "WCU" }),
            ],
          }),
        ],
      ],
    });
  }
}
