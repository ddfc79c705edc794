import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { chunk, forEachLimited } from "../concurrency.ts";
import { beforeResending, retrying } from "./client.ts";

export type Item = Record<string, unknown>;

/**
 * Puts items with BatchWriteItem, 25 a call, `parallel` calls in flight. Unprocessed items (a
 * partition over its limit) are sent again after a throttled call's backoff until `deadline`.
 */
export async function putAll(
  db: DynamoDBDocumentClient,
  table: string,
  items: readonly Item[],
  deadline: number,
  parallel: number,
): Promise<void> {
  await forEachLimited(chunk(items, 25), parallel, async (batch) => {
    let pending = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await beforeResending(attempt, deadline, () => `${pending.length} items still unprocessed`);
      const out = await retrying(deadline, () =>
        db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } })),
      );
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  });
}

/** Reads items by key with BatchGetItem (strongly consistent), 100 keys a call, retrying unprocessed keys. */
export async function getAll(
  db: DynamoDBDocumentClient,
  table: string,
  keys: readonly Item[],
  deadline: number,
  parallel: number,
  projection?: { expression: string; names: Record<string, string> },
): Promise<Item[]> {
  const found: Item[] = [];
  await forEachLimited(chunk(keys, 100), parallel, async (batch) => {
    let pending: Item[] = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await beforeResending(attempt, deadline, () => `${pending.length} keys still unprocessed`);
      const request = {
        Keys: pending,
        ConsistentRead: true,
        ...(projection
          ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names }
          : {}),
      };
      const out = await retrying(deadline, () => db.send(new BatchGetCommand({ RequestItems: { [table]: request } })));
      found.push(...((out.Responses?.[table] ?? []) as Item[]));
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
    }
  });
  return found;
}
