import { type AttributeValue, CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { beforeAll, inject } from "vitest";
import { TABLE } from "../../lib/store/table.ts";

// A table of the service's shape in the suite's DynamoDB Local, reached directly or through a proxy.

export const INDEX = TABLE.orderIndex.indexName;

export const endpoint = () => inject("dynamoEndpoint");
export const clientAt = (url: string) =>
  new DynamoDBClient({
    endpoint: url,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
export const tableName = `capacity-${Math.random().toString(36).slice(2, 8)}`;
export const direct = clientAt(endpoint());

/** Creates `tableName`, keyed and indexed as the service's table, before the file's tests. */
export const useModelTable = () =>
  beforeAll(async () => {
    await direct.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "task_id", AttributeType: "S" },
          { AttributeName: "img_id", AttributeType: "S" },
          { AttributeName: "order_block", AttributeType: "S" },
          { AttributeName: "order_id", AttributeType: "N" },
        ],
        KeySchema: [
          { AttributeName: "task_id", KeyType: "HASH" },
          { AttributeName: "img_id", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: INDEX,
            KeySchema: [
              { AttributeName: "order_block", KeyType: "HASH" },
              { AttributeName: "order_id", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...TABLE.projectedAttributes] },
          },
        ],
      }),
    );
  });

/** An item as the SDK types it. */
export type SdkItem = Record<string, AttributeValue>;

/** ~100 bytes: 1 WCU. */
export const smallImage = (task: string, i: number): SdkItem => ({
  task_id: { S: task },
  img_id: { S: `img-${String(i).padStart(6, "0")}` },
  img_name: { S: `img_${String(i).padStart(6, "0")}.jpg` },
  state: { N: "0" },
  pad: { S: "x".repeat(40) },
});

export const errorName = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "none";
  } catch (error) {
    return (error as Error).name;
  }
};

/**
 * The proxy's clock (its capacity model's and its index lag's) stands still unless a test moves it:
 * a bucket refills only when the test says a second has passed, however slow the machine.
 */
export const testClock = () => {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};
