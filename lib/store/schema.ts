import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { TABLE } from "./table.ts";

/**
 * Creates the table with its order index and TTL when it does not exist yet (the local server,
 * tests, the bench); true when it was created now.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const index = TABLE.orderIndex;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: TABLE.partitionKey, AttributeType: "S" },
          { AttributeName: TABLE.sortKey, AttributeType: "S" },
          { AttributeName: index.partitionKey, AttributeType: "S" },
          { AttributeName: index.sortKey, AttributeType: "N" },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: index.indexName,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: "HASH" },
              { AttributeName: index.sortKey, KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...TABLE.projectedAttributes] },
          },
        ],
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.expiryAttribute, Enabled: true },
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (!Table?.GlobalSecondaryIndexes?.some((gsi) => gsi.IndexName === index.indexName)) {
      throw new Error(
        `table ${tableName} exists without the ${index.indexName} index: it was made by an older storage layout (delete it, or for npm start remove .data/)`,
      );
    }
    return false;
  }
}

/** Whether the table exists (and has the order index): for a server pointed at a DynamoDB it must not change. */
export async function tableReady(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table?.GlobalSecondaryIndexes?.some((gsi) => gsi.IndexName === TABLE.orderIndex.indexName) ?? false;
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") return false;
    throw error;
  }
}
