import { RemovalPolicy } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../infra/defaults.ts";
import { IDEMPOTENCY_TABLE } from "../../infra/tables.ts";
import { TABLE } from "../../lib/store/table.ts";
import { type Json, synth } from "./stack-fixture.ts";

const base = synth();

describe("table", () => {
  it("is keyed by TABLE's partition and sort keys, both strings, and pays per request", () => {
    base.template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: TABLE.partitionKey, AttributeType: "S" },
        { AttributeName: TABLE.sortKey, AttributeType: "S" },
      ]),
      BillingMode: "PAY_PER_REQUEST",
    });
    // the service's table and the idempotency table
    base.template.resourceCountIs("AWS::DynamoDB::Table", 2);
  });

  it("has point-in-time recovery on", () => {
    base.template.hasResourceProperties("AWS::DynamoDB::Table", {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it("has exactly the order index of TABLE: (task#block S, order_id N), projecting only the listed attributes, and TTL on the expiry attribute", () => {
    const slots = [TABLE.orderIndex];
    base.template.hasResourceProperties("AWS::DynamoDB::Table", {
      TimeToLiveSpecification: { AttributeName: TABLE.expiryAttribute, Enabled: true },
    });
    base.template.hasResourceProperties("AWS::DynamoDB::Table", {
      GlobalSecondaryIndexes: slots.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" },
          { AttributeName: index.sortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...TABLE.projectedAttributes] },
      })),
    });
    const table = base.resources[base.tableId];
    expect(table?.Properties?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        ...slots.map((index) => ({ AttributeName: index.partitionKey, AttributeType: "S" })),
        ...slots.map((index) => ({ AttributeName: index.sortKey, AttributeType: "N" })),
      ]),
    );
  });

  it("has no hard-coded physical name", () => {
    for (const [id, table] of base.ofType("AWS::DynamoDB::Table"))
      expect(table.Properties, id).not.toHaveProperty("TableName");
  });

  it("is retained on stack deletion and replacement by default, and so is the idempotency table", () => {
    for (const id of [base.tableId, base.idempotencyTableId]) {
      expect(base.resources[id], id).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    }
  });

  it("is deleted with the stack when removalPolicy is DESTROY, and so are the idempotency table and the log groups", () => {
    const throwaway = synth({ removalPolicy: RemovalPolicy.DESTROY });
    for (const id of [throwaway.tableId, throwaway.idempotencyTableId]) {
      expect(throwaway.resources[id], id).toMatchObject({ DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete" });
    }
    for (const [, group] of throwaway.ofType("AWS::Logs::LogGroup")) expect(group.DeletionPolicy).toBe("Delete");
  });

  it("has the default on-demand maximum on the table and the order index, a configured one, or none when turned off", () => {
    const throughput = (fixture: ReturnType<typeof synth>) => {
      const props = fixture.resources[fixture.tableId]?.Properties as {
        OnDemandThroughput?: Json;
        GlobalSecondaryIndexes: { IndexName: string; OnDemandThroughput?: Json }[];
      };
      return [props.OnDemandThroughput, ...props.GlobalSecondaryIndexes.map((gsi) => gsi.OnDemandThroughput)];
    };
    const defaults = {
      MaxReadRequestUnits: DEFAULTS.tableMaxReadRequestUnits,
      MaxWriteRequestUnits: DEFAULTS.tableMaxWriteRequestUnits,
    };
    expect(throughput(base)).toEqual([defaults, defaults]);
    const limit = { MaxReadRequestUnits: 4000, MaxWriteRequestUnits: 1500 };
    expect(throughput(synth({ tableMaxReadRequestUnits: 4000, tableMaxWriteRequestUnits: 1500 }))).toEqual([
      limit,
      limit,
    ]);
    expect(throughput(synth({ tableMaxReadRequestUnits: false, tableMaxWriteRequestUnits: false }))).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe("the idempotency table", () => {
  it("is keyed by id (S), expires on `expiration`, pays per request, and is its own table", () => {
    const props = base.resources[base.idempotencyTableId]?.Properties;
    expect(props).toMatchObject({
      KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      TimeToLiveSpecification: { AttributeName: "expiration", Enabled: true },
      BillingMode: "PAY_PER_REQUEST",
    });
    expect(base.stack.idempotencyTable).not.toBe(base.stack.table);
  });
});
