import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../lib/routes.ts";
import { TABLE } from "../../lib/store/table.ts";
import { type Json, synth } from "./stack-fixture.ts";

const base = synth();

describe("alarms and dashboard", () => {
  type Alarm = Json & { AlarmActions: Json[]; OKActions: Json[]; Metrics?: Json[] };
  const alarms = Object.fromEntries(
    base.ofType("AWS::CloudWatch::Alarm").map(([id, alarm]) => [id, alarm.Properties as Alarm]),
  );
  const alarmOf = (construct: string): Alarm => {
    const found = base.stack.monitoring.alarms[construct];
    expect(found, construct).toBeDefined();
    return alarms[base.stack.getLogicalId(found!.node.defaultChild as never)] as Alarm;
  };
  const topicId = () => base.ofType("AWS::SNS::Topic").map(([id]) => id)[0];

  it("watch the API's 5xx share and its p99 latency against the 29 s limit, on stage v1", () => {
    expect(alarmOf("Api5xxRate")).toMatchObject({
      Namespace: "AWS/ApiGateway",
      MetricName: "5XXError",
      Statistic: "Average",
      Threshold: 0.05,
      // by API name (one per stage: dev's and prod's metrics stay apart) and stage v1
      Dimensions: [
        { Name: "ApiName", Value: "TrainingSets-dev" },
        {
          Name: "Stage",
          Value: { Ref: base.stack.getLogicalId(base.stack.api.deploymentStage.node.defaultChild as never) },
        },
      ],
    });
    base.template.hasResourceProperties("AWS::ApiGateway::Stage", { StageName: "v1" });
    const latency = alarmOf("ApiLatencyP99");
    expect(latency).toMatchObject({ MetricName: "Latency", ExtendedStatistic: "p99", Threshold: 25000 });
    expect(latency.Threshold as number).toBeLessThan(29_000);
  });

  it("watch each function's errors and throttles", () => {
    for (const fn of FUNCTIONS) {
      for (const [construct, metric] of [
        [`${fn.name}Errors`, "Errors"],
        [`${fn.name}Throttles`, "Throttles"],
      ]) {
        expect(alarmOf(construct!), construct).toMatchObject({
          Namespace: "AWS/Lambda",
          MetricName: metric,
          Statistic: "Sum",
          Threshold: 1,
          Dimensions: [{ Name: "FunctionName", Value: { Ref: fn.name } }],
        });
      }
    }
  });

  it("watch sustained DynamoDB throttling on the table, the order index and the idempotency table", () => {
    const dimensionsOf = (construct: string) => {
      const alarm = alarmOf(construct);
      expect(alarm, construct).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1 });
      const metrics = (alarm.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: Json[] } } }[])
        .filter((metric) => metric.MetricStat)
        .map((metric) => metric.MetricStat!.Metric);
      expect(metrics.map((metric) => metric.MetricName).sort()).toEqual(["ReadThrottleEvents", "WriteThrottleEvents"]);
      return metrics[0]!.Dimensions;
    };
    expect(dimensionsOf("TableThrottles")).toEqual([{ Name: "TableName", Value: { Ref: base.tableId } }]);
    expect(dimensionsOf("OrderIndexThrottles")).toEqual(
      expect.arrayContaining([
        { Name: "TableName", Value: { Ref: base.tableId } },
        { Name: "GlobalSecondaryIndexName", Value: TABLE.orderIndex.indexName },
      ]),
    );
    expect(dimensionsOf("IdempotencyTableThrottles")).toEqual([
      { Name: "TableName", Value: { Ref: base.idempotencyTableId } },
    ]);
  });

  it("watch the idempotency store's DynamoDB server errors on each operation it uses", () => {
    type Stat = { MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] } } };
    const metrics = (alarmOf("IdempotencyTableErrors").Metrics as Stat[]).flatMap((m) =>
      m.MetricStat ? [m.MetricStat.Metric] : [],
    );
    expect(metrics.map((metric) => metric.MetricName)).toEqual(Array(4).fill("SystemErrors"));
    const operations = metrics.map((metric) => metric.Dimensions.find((d) => d.Name === "Operation")?.Value);
    expect(operations.sort()).toEqual(["DeleteItem", "GetItem", "PutItem", "UpdateItem"]);
    for (const metric of metrics) {
      expect(metric.Dimensions).toContainEqual({ Name: "TableName", Value: { Ref: base.idempotencyTableId } });
    }
  });

  it("are all of the above (2 API, 2 per function, 4 DynamoDB, 1 schedules), and each notifies the SNS topic on alarm and on recovery", () => {
    expect(Object.keys(alarms)).toHaveLength(2 + 2 * FUNCTIONS.length + 4 + 1);
    for (const [id, alarm] of Object.entries(alarms)) {
      expect(alarm.AlarmActions, id).toEqual([{ Ref: topicId() }]);
      expect(alarm.OKActions, id).toEqual([{ Ref: topicId() }]);
      expect(alarm.TreatMissingData, id).toBe("notBreaching");
    }
  });

  it("mail the topic's subscriber only when an alarm email is configured; the topic refuses plain HTTP", () => {
    base.template.resourceCountIs("AWS::SNS::Subscription", 0);
    const mailed = synth({ alarmEmail: "oncall@example.com" });
    mailed.template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "oncall@example.com",
    });
    base.template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("have a dashboard named after the stage", () => {
    base.template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    base.template.hasResourceProperties("AWS::CloudWatch::Dashboard", { DashboardName: "TrainingSets-dev" });
    synth({ stage: "prod" }).template.hasResourceProperties("AWS::CloudWatch::Dashboard", {
      DashboardName: "TrainingSets-prod",
    });
  });
});
