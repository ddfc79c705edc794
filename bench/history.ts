/**
 * A task's past, through the capacity model: what registering, deleting, publishing and listing
 * cost after a long history, beside the same on a task with none, in the same run. Returns rows
 * for bench/run.ts.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { StoreConfig } from "../lib/config.ts";
import { DEFAULT_SPLIT_OPTIONS, type ImageInput } from "../lib/model.ts";
import { splitTask } from "../lib/split/split.ts";
import { createDynamoDbClient } from "../lib/store/client.ts";
import { createStore, type Store } from "../lib/store/index.ts";
import { ORDER_BLOCK, TABLE, TASK_ITEM_SK } from "../lib/store/table.ts";
import { itemSize } from "../test/support/capacity-model/index.ts";
import { type FaultProxy, startFaultProxy } from "../test/support/fault-proxy/index.ts";
import { imageIdOf, type Measure } from "./support.ts";

/** 128 four-byte characters: a label or group name at its most expensive. */
const longName = (i: number) => `${String(i).padStart(4, "0")}${"𠜎".repeat(124)}`;

const images = (from: number, count: number, named: boolean): ImageInput[] =>
  Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      imgId: imageIdOf(i),
      imgName: `img_${i}.jpg`,
      ...(named ? { label: longName(i % 200), group: longName(i % 250) } : {}),
    };
  });

async function register(store: Store, taskId: string, from: number, count: number, named = false) {
  for (let start = from; start < from + count; start += 1_000) {
    await store.registerImages({ taskId, images: images(start, Math.min(1_000, from + count - start), named) });
  }
}

async function units(proxy: FaultProxy, work: () => Promise<unknown>) {
  proxy.capacity!.reset();
  await work();
  const used = proxy.capacity!.consumed();
  return {
    writeUnits: used.table.writeUnits,
    indexWriteUnits: used.writeUnits - used.table.writeUnits,
    readUnits: used.readUnits,
  };
}

export async function benchHistory(config: StoreConfig, endpoint: string, splits: number): Promise<Measure[]> {
  const proxy = await startFaultProxy(endpoint, { capacity: { writeUnitsPerSecond: 1e12, readUnitsPerSecond: 1e12 } });
  const rows: Measure[] = [];
  try {
    const direct = createStore({ ...config, endpoint });
    const modelled = createStore({ ...config, endpoint: proxy.endpoint });
    const stratified = { ...DEFAULT_SPLIT_OPTIONS, stratifyBy: "label" as const };
    const spec = (taskId: string, i: number) => ({
      taskId,
      counts: { 0: 600, 1: 200, 2: 200 },
      seed: `h${i}`,
      options: i % 2 === 0 ? undefined : stratified,
    });
    const taskItemBytes = async (taskId: string) =>
      itemSize(
        (
          await createDynamoDbClient({ ...config, endpoint }).send(
            new GetItemCommand({
              TableName: config.tableName,
              Key: { [TABLE.partitionKey]: { S: taskId }, [TABLE.sortKey]: { S: TASK_ITEM_SK } },
              ConsistentRead: true,
            }),
          )
        ).Item,
      );

    // Two tasks of 1,000 images in 250 groups and 200 labels of 128 four-byte characters.
    const once = "history-once";
    const long = "history-long";
    for (const taskId of [once, long]) await register(direct, taskId, 1, 1_000, true);
    // The same request as the long task's last split: the same plan, so only the history differs.
    await splitTask(direct, spec(once, splits));
    const codes: number[] = [];
    const publishUnits: number[] = [];
    for (let i = 1; i <= splits; i++) {
      const used = await units(proxy, () =>
        splitTask(modelled, spec(long, i)).then(
          () => codes.push(200),
          (error: { status?: number }) => codes.push(error.status ?? 500),
        ),
      );
      publishUnits.push(used.writeUnits);
    }
    const ok = codes.filter((code) => code === 200).length;
    const sizeOnce = await taskItemBytes(once);
    const sizeLong = await taskItemBytes(long);
    rows.push({
      name: `task item after ${splits} splits (200 labels, 250 groups of 128 four-byte chars)`,
      value: sizeLong,
      unit: "bytes",
      baseline: sizeOnce,
      baselineName: "the same task split once",
      target: { max: 1_023 },
      note: `${ok} of ${splits} splits answered 200`,
    });
    rows.push({
      name: `  split ${splits} (1,000 images): table write units`,
      value: publishUnits.at(-1)!,
      unit: "WRU",
      baseline: publishUnits[Math.min(21, splits) - 1]!,
      baselineName: `split ${Math.min(21, splits)} of the same task`,
      target: { ratio: 1.15 },
      note: "its record and chunks, the publish, and from split 21 on the expiry of the record and chunks that leave the window (a write billed by the record's size)",
    });

    const registerOnce = await units(proxy, () => register(modelled, once, 2_001, 99));
    const registerLong = await units(proxy, () => register(modelled, long, 2_001, 99));
    rows.push({
      name: `register 99 images after ${splits} splits`,
      value: registerLong.writeUnits,
      unit: "WRU",
      baseline: registerOnce.writeUnits,
      baselineName: "on a task split once",
      writeUnits: registerLong.writeUnits + registerLong.indexWriteUnits,
      target: { ratio: 1.15 },
      note: "table write units (index units in the WRU column)",
    });
    const page = (taskId: string) => () => modelled.listSet({ taskId, setType: 0, limit: 10, cursor: undefined });
    const pageOnce = await units(proxy, page(once));
    const pageLong = await units(proxy, page(long));
    rows.push({
      name: `GET page of 10 after ${splits} splits`,
      value: pageLong.readUnits,
      unit: "RRU",
      baseline: pageOnce.readUnits,
      baselineName: "on a task split once",
      target: { ratio: 1 },
    });

    // Deleting one image in a fresh order block, and in a block that has seen 9,000 deletions.
    const deletions = "history-deletions";
    await register(direct, deletions, 1, ORDER_BLOCK + 10);
    await splitTask(direct, { taskId: deletions, counts: { 0: 5_000, 1: 1_000, 2: 1_000 }, seed: "d" });
    const fresh = await units(proxy, () =>
      modelled.deleteImages({ taskId: deletions, imgIds: [imageIdOf(ORDER_BLOCK + 1)] }),
    );
    for (let start = 1; start <= 9_000; start += 1_000) {
      const imgIds = Array.from({ length: 1_000 }, (_, k) => imageIdOf(start + k));
      await direct.deleteImages({ taskId: deletions, imgIds });
    }
    const crowded = await units(proxy, () => modelled.deleteImages({ taskId: deletions, imgIds: [imageIdOf(9_001)] }));
    rows.push({
      name: "delete 1 image after 9,000 deletions in its order block",
      value: crowded.writeUnits + crowded.indexWriteUnits,
      unit: "WRU",
      baseline: fresh.writeUnits + fresh.indexWriteUnits,
      baselineName: "in a fresh order block",
      target: { ratio: 1 },
      note: `table ${crowded.writeUnits} vs ${fresh.writeUnits}`,
    });
  } finally {
    await proxy.close();
  }
  return rows;
}
