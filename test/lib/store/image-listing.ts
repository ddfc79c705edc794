import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Image, ImageCursor, SetType } from "../../../lib/model.ts";
import { documentClient } from "../../../lib/store/client.ts";
import type { Store } from "../../../lib/store/index.ts";
import { TOMBSTONE_PREFIX } from "../../../lib/store/table.ts";
import { imageId, localClient, readWholeSet } from "../../support/store.ts";

export const db = documentClient(localClient());

/** Every image of the task through the image listing, page by page. */
export async function readAllListed(store: Store, taskId: string, limit = 5000): Promise<Image[]> {
  const images: Image[] = [];
  let cursor: ImageCursor | undefined;
  do {
    const page = await store.listImages({ taskId, imgId: undefined, limit, cursor });
    images.push(...page.images);
    cursor = page.nextCursor;
  } while (cursor);
  return images;
}

/** The ids of every set of the live split, read through the set listing. */
export async function setsOf(store: Store, taskId: string): Promise<Record<SetType, string[]>> {
  const ids = async (setType: SetType) => (await readWholeSet(store, taskId, setType)).map((image) => image.img_id);
  return { 0: await ids(0), 1: await ids(1), 2: await ids(2) };
}

/** Ids of images registered in index order (zero-padded): their order_id order is their code-unit order. */
export const byOrder = (list: string[]) => [...list].sort();

export const ids = (task: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => imageId(task, from + k));

export async function storedItem(tableName: string, taskId: string, sortKey: string) {
  const out = await db.send(
    new GetCommand({ TableName: tableName, Key: { task_id: taskId, img_id: sortKey }, ConsistentRead: true }),
  );
  return out.Item;
}

/** The sort keys of the task's tombstones, in key order (strongly consistent). */
export async function tombstonesOf(tableName: string, taskId: string): Promise<string[]> {
  const out = await db.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "task_id = :t AND begins_with(img_id, :prefix)",
      ExpressionAttributeValues: { ":t": taskId, ":prefix": TOMBSTONE_PREFIX },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((item) => item.img_id as string);
}

/** The options a plan reports when a request names none. */
export function defaults() {
  return {
    stratifyBy: undefined,
    groupBy: undefined,
    rareLabels: "training" as const,
    mode: "fresh" as const,
    lockTesting: false,
    dryRun: false,
    algorithm: "v1",
  };
}
