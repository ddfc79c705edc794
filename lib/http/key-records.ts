import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { StoreConfig } from "../config.ts";
import { isLoopback } from "../store/client.ts";
import type { PublishedSplit } from "../store/index.ts";

/**
 * The Idempotency-Key records (one a key, in a table of their own: partition key `id`, TTL on
 * `expiration`) and the few writes the middleware makes to them, each conditional on who holds
 * the record.
 */

/** What an idempotency record keeps of an answer (a JSON value in the record's `data`). */
export interface KeptAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /**
   * Set when `body` is a split answer kept without its id lists (it holds `ids_omitted` and
   * `set_sizes` instead): the lists are rebuilt from this split on replay.
   */
  rebuild?: ({ task_id: string } & PublishedSplit) | undefined;
}

/** The split a request is running, as its record names it before the publish. */
export type RunningSplit = { task_id: string } & PublishedSplit;

export const IN_PROGRESS = "INPROGRESS";
export const COMPLETED = "COMPLETED";

/** One key's record. */
export interface KeyRecord {
  id: string;
  status: typeof IN_PROGRESS | typeof COMPLETED;
  /** Epoch seconds: the record's TTL. */
  expiration: number;
  /** Epoch ms until which the owner may still be running; after it, the record may be taken over. */
  in_progress_expiration?: number;
  /** A digest of the request body: the same key with another body is 1024. */
  validation: string;
  /** The request holding the record: only it saves an answer in it, names its split or releases it. */
  owner: string;
  split?: RunningSplit;
  data?: KeptAnswer;
}

/** The request holding a record: its id and the owner token only it knows. */
export interface Holder {
  id: string;
  owner: string;
}

/**
 * The DynamoDB client of the idempotency table. Unlike the store's client (which retries against a
 * deadline itself), the SDK's standard retries apply: these are single small items.
 */
export function idempotencyClient(
  storage: Pick<StoreConfig, "region" | "endpoint" | "requestTimeoutMs">,
): DynamoDBClient {
  return new DynamoDBClient({
    region: storage.region,
    endpoint: storage.endpoint,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: storage.requestTimeoutMs },
    ...(isLoopback(storage.endpoint) ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
}

/**
 * Creates the idempotency table when it is missing — partition key `id` (S), TTL on `expiration`,
 * as the stack makes it. True when it was created now.
 */
export async function ensureIdempotencyTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return false;
  } catch (error) {
    if ((error as { name?: string }).name !== "ResourceNotFoundException") throw error;
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    // Another process made it meanwhile.
    if ((error as { name?: string }).name === "ResourceInUseException") return false;
    throw error;
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: "expiration", Enabled: true },
    }),
  );
  return true;
}

/** The key's records, one module for the middleware's few writes. */
export function keyRecords(db: DynamoDBDocumentClient, table: string) {
  const owned = { ConditionExpression: "#owner = :owner", ExpressionAttributeNames: { "#owner": "owner" } };
  return {
    read: async (id: string) =>
      (await db.send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }))).Item as
        | KeyRecord
        | undefined,
    /** True when this request now holds a new record (none was there, or the one there had expired). */
    create: async (record: KeyRecord) => {
      try {
        await db.send(
          new PutCommand({
            TableName: table,
            Item: record,
            ConditionExpression: "attribute_not_exists(id) OR expiration < :now",
            ExpressionAttributeValues: { ":now": Math.floor(Date.now() / 1000) },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    /** True when this request took the record over from `previous`, whose time ran out. */
    takeOver: async (previous: KeyRecord, owner: string, until: number) => {
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: { id: previous.id },
            UpdateExpression: "SET #owner = :owner, in_progress_expiration = :until",
            ConditionExpression: "#owner = :previous AND #status = :inProgress",
            ExpressionAttributeNames: { "#owner": "owner", "#status": "status" },
            ExpressionAttributeValues: {
              ":owner": owner,
              ":until": until,
              ":previous": previous.owner,
              ":inProgress": IN_PROGRESS,
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    nameSplit: (state: Holder, split: RunningSplit) =>
      db.send(
        new UpdateCommand({
          TableName: table,
          Key: { id: state.id },
          UpdateExpression: "SET #split = :split",
          ...owned,
          ExpressionAttributeNames: { ...owned.ExpressionAttributeNames, "#split": "split" },
          ExpressionAttributeValues: { ":owner": state.owner, ":split": split },
        }),
      ),
    complete: (state: Holder, data: KeptAnswer) =>
      db.send(
        new UpdateCommand({
          TableName: table,
          Key: { id: state.id },
          UpdateExpression: "SET #status = :completed, #data = :data REMOVE in_progress_expiration",
          ...owned,
          ExpressionAttributeNames: { ...owned.ExpressionAttributeNames, "#status": "status", "#data": "data" },
          ExpressionAttributeValues: { ":owner": state.owner, ":completed": COMPLETED, ":data": data },
        }),
      ),
    release: (state: Holder) =>
      db.send(
        new DeleteCommand({
          TableName: table,
          Key: { id: state.id },
          ...owned,
          ExpressionAttributeValues: { ":owner": state.owner },
        }),
      ),
  };
}
