import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { documentClient } from "../../../lib/store/client.ts";
import { TABLE } from "../../../lib/store/table.ts";
import { counts, freshStore, localClient, registerImages, split } from "../../support/store.ts";

const db = documentClient(localClient());

/** Every reserved item of a task (task item, runs, chunks) with its sort key and expiry. */
async function reservedItems(tableName: string, taskId: string) {
  const out = await db.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "#pk = :task AND begins_with(#sk, :hash)",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
      ExpressionAttributeValues: { ":task": taskId, ":hash": "#" },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []) as { img_id: string; expires_at?: number }[];
}

describe("what a dead split left behind", () => {
  it("a split that died after its record, before its chunk, has its record expired by the next publish, one storage call at a time", async () => {
    // Arrange: one call at a time, so the missing chunk is tried before the record
    const { store, config } = await freshStore({ concurrency: 1 });
    const taskId = "dead-before-chunks";
    await registerImages(store, taskId, 40);
    await split(store, { taskId, counts: counts(20, 10, 10), seed: "a" });
    const live = (await store.taskSummary(taskId)).live!;
    await store.writeSnapshot(taskId, { ...live, version: 2, token: "dead00", n: 40, chunks: 1 }, []);

    // Act
    const next = await split(store, { taskId, counts: counts(10, 5, 5), seed: "b" });

    // Assert: the dead record expires after the grace period; no chunk item was made for it
    expect(next.version).toBe(2);
    const dead = (await reservedItems(config.tableName, taskId)).filter((item) => item.img_id.includes("#dead00"));
    expect(dead.map((item) => item.img_id)).toEqual([`#run#${"2".padStart(10, "0")}#dead00`]);
    const expiresIn = (dead[0]?.expires_at ?? 0) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(config.snapshotGraceSeconds - 60);
    expect(expiresIn).toBeLessThanOrEqual(config.snapshotGraceSeconds + 1);
  });
});
