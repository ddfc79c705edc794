import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { forEachLimited } from "../concurrency.ts";
import { ServiceError } from "../errors.ts";
import { HISTORY_LENGTH, type SplitRecord, type SplitRef } from "../model.ts";
import { getAll, type Item, putAll } from "./batch.ts";
import { retrying } from "./client.ts";
import { writeRecord } from "./records.ts";
import type { Chunk } from "./snapshot.ts";
import { chunkKey, runKey, TABLE } from "./table.ts";
import type { StoreContext } from "./task-item.ts";

/** Which snapshot: a split's version and token, its chunk count and the highest order_id it covers. */
export type SnapshotRef = SplitRef;

const EXPIRES = TABLE.expiryAttribute;

/**
 * Writes a split's snapshot: first its record item (so a later split can find and expire the
 * chunks should this one never publish, and the history can read it), then the chunks. Nothing
 * written here carries an expiry: any of it may become live.
 */
export async function writeSnapshot(
  ctx: StoreContext,
  taskId: string,
  record: SplitRecord,
  chunks: readonly Chunk[],
  deadline: number,
): Promise<void> {
  await writeRecord(ctx, taskId, record, deadline);
  const items = chunks.map((chunk) => ({
    [TABLE.partitionKey]: taskId,
    [TABLE.sortKey]: chunkKey(record.version, record.token, chunk.index),
    codes: chunk.codes,
    counts: chunk.counts,
    n: record.n,
    chunks: record.chunks,
  }));
  await putAll(ctx.db, ctx.table, items, deadline, ctx.config.concurrency);
}

const expired = (item: Item) => typeof item[EXPIRES] === "number" && (item[EXPIRES] as number) * 1000 <= Date.now();

/**
 * Chunks `from` … `to` (inclusive) of a snapshot, in order. A chunk that is gone (deleted by its
 * TTL, or past its expiry and not yet deleted) means the snapshot is no longer retained: 1015.
 * Chunks are not cached across requests: one 4 KiB chunk is one read unit, and a reader must learn
 * when its snapshot expires.
 */
export async function readChunks(
  ctx: StoreContext,
  taskId: string,
  ref: SnapshotRef,
  from: number,
  to: number,
  deadline: number,
): Promise<Chunk[]> {
  const indexOf = new Map<string, number>();
  for (let index = from; index <= to; index++) indexOf.set(chunkKey(ref.version, ref.token, index), index);
  const keys = [...indexOf.keys()].map((sortKey) => ({ [TABLE.partitionKey]: taskId, [TABLE.sortKey]: sortKey }));
  const chunks: Chunk[] = [];
  for (const item of await getAll(ctx.db, ctx.table, keys, deadline, ctx.config.concurrency)) {
    const index = indexOf.get(item[TABLE.sortKey] as string);
    if (index === undefined || expired(item) || item.n !== ref.n || item.chunks !== ref.chunks) continue;
    chunks.push({ index, codes: item.codes as Uint8Array, counts: item.counts as [number, number, number] });
  }
  if (chunks.length !== indexOf.size) {
    throw new ServiceError(
      1015,
      {},
      {
        detail: `split version ${ref.version} of this cursor is no longer retained: read again from the first page`,
      },
    );
  }
  return chunks.sort((a, b) => a.index - b.index);
}

/** Sets the expiry on items that exist (never creating one): chunks and run items no split can make live any more. */
async function expireItems(ctx: StoreContext, taskId: string, sortKeys: readonly string[], deadline: number) {
  const at = Math.ceil(Date.now() / 1000 + ctx.config.snapshotGraceSeconds);
  await forEachLimited(sortKeys, ctx.config.concurrency, async (sortKey) => {
    try {
      await retrying(deadline, () =>
        ctx.db.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: { [TABLE.partitionKey]: taskId, [TABLE.sortKey]: sortKey },
            UpdateExpression: "SET #expires = :at",
            ConditionExpression: "attribute_exists(#pk) AND attribute_not_exists(#expires)",
            ExpressionAttributeNames: { "#expires": EXPIRES, "#pk": TABLE.partitionKey },
            ExpressionAttributeValues: { ":at": at },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  });
}

const snapshotKeys = (ref: Pick<SplitRef, "version" | "token" | "chunks">) => [
  ...Array.from({ length: ref.chunks }, (_, i) => chunkKey(ref.version, ref.token, i)),
  runKey(ref.version, ref.token),
];

/** A split known not to be published (it lost, or never reached its publish) expires its own snapshot and record. */
export const expireSnapshot = (ctx: StoreContext, taskId: string, ref: SnapshotRef, deadline: number) =>
  expireItems(ctx, taskId, snapshotKeys(ref), deadline);

/**
 * After publishing version `published`, expires every snapshot no task item points to any more:
 * those of splits at the versions of the published window and the one just below it that are not
 * among the retained ones (dead or beaten attempts; the window's oldest, dropped by this publish).
 * Later versions may still be running and are left alone; older ones were looked at by earlier
 * publishes, so what this costs does not grow with the task's history. Each gets the grace period,
 * so a reader that has just read an older task item still finds its chunks.
 */
export async function expireUnreferenced(
  ctx: StoreContext,
  taskId: string,
  published: number,
  retained: readonly Pick<SplitRef, "token">[],
  deadline: number,
): Promise<number> {
  const keep = new Set(retained.map((record) => record.token));
  const runs: Item[] = [];
  let startKey: Item | undefined;
  do {
    const out = await retrying(deadline, () =>
      ctx.db.send(
        new QueryCommand({
          TableName: ctx.table,
          KeyConditionExpression: "#pk = :task AND #sk BETWEEN :from AND :to",
          FilterExpression: "attribute_not_exists(#expires)",
          ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey, "#expires": EXPIRES },
          ExpressionAttributeValues: {
            ":task": taskId,
            ":from": runKey(Math.max(1, published - HISTORY_LENGTH), ""),
            ":to": `${runKey(published, "")}~`,
          },
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    runs.push(...((out.Items ?? []) as Item[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  const dead = runs.filter((run) => !keep.has(run.token as string));
  const keys = dead.flatMap((run) =>
    snapshotKeys({ version: run.version as number, token: run.token as string, chunks: run.chunks as number }),
  );
  await expireItems(ctx, taskId, keys, deadline);
  return dead.length;
}
