import type { SetType, Slot } from "./model.ts";

/**
 * The one table, described once for both the CDK stack and the local server.
 * Items: one per image (sort key = img_id) and one per task (sort key TASK_ITEM_SK,
 * which no img_id can equal: '#' is outside the id charset).
 */
export const TABLE = {
  partitionKey: "task_id",
  sortKey: "img_id",
  /** One global secondary index per assignment slot, so writing one slot never touches the other's index. */
  slotIndexes: {
    a: { indexName: "by-set-a", partitionKey: "set_a", sortKey: "order_id" },
    b: { indexName: "by-set-b", partitionKey: "set_b", sortKey: "order_id" },
  },
  /** Non-key attributes a set listing needs; the indexes project only these. */
  projectedAttributes: ["img_name", "state"],
} as const;

export const TASK_ITEM_SK = "#task";

/** The index partition key of one block of one set of one split version. */
export const setKey = (taskId: string, version: number, setType: SetType, block: number): string =>
  `${taskId}#${version}#${setType}#${block}`;

export const slotAttribute = (slot: Slot) => TABLE.slotIndexes[slot].partitionKey;
export const otherSlot = (slot: Slot): Slot => (slot === "a" ? "b" : "a");
