import { TABLE, TASK_ITEM_SK } from "../../../lib/store/table.ts";
import type { Json } from "../capacity-model/index.ts";

/** One call as the proxy sees it. */
export interface Call {
  /** 1-based position among all calls through this proxy. */
  seq: number;
  /** The DynamoDB operation, from the X-Amz-Target header (e.g. "BatchWriteItem"). */
  operation: string;
  /** 1-based position among calls of the same operation. */
  nth: number;
  /** The request as sent (DynamoDB JSON). */
  input: Json;
}

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"]);

/** True for the operations that change the table. */
export const isWrite = (operation: string) => WRITES.has(operation);

/** The sort keys of the items a call writes (Put, Update, Delete; not ConditionCheck), and its table. */
function writtenSortKeys(call: Pick<Call, "operation" | "input">): { table: string; sortKeys: string[] } {
  const { operation, input } = call;
  const id = (item: Json | undefined) => item?.[TABLE.sortKey]?.S as string | undefined;
  let table = String(input.TableName ?? "");
  let ids: (string | undefined)[] = [];
  if (operation === "BatchWriteItem") {
    const [name, requests] = Object.entries((input.RequestItems ?? {}) as Record<string, Json[]>)[0] ?? ["", []];
    table = name;
    ids = requests.map((r) => id(r.PutRequest?.Item ?? r.DeleteRequest?.Key));
  } else if (operation === "TransactWriteItems") {
    const actions = ((input.TransactItems ?? []) as Json[])
      .map((item) => item.Put ?? item.Update ?? item.Delete)
      .filter(Boolean) as Json[];
    table = String(actions[0]?.TableName ?? "");
    ids = actions.map((action) => id(action.Item ?? action.Key));
  } else if (operation === "PutItem") {
    ids = [id(input.Item)];
  } else if (operation === "UpdateItem" || operation === "DeleteItem") {
    ids = [id(input.Key)];
  }
  return { table, sortKeys: ids.filter((sk): sk is string => sk !== undefined) };
}

/**
 * The images (by img_id) a call writes, every reserved item (sort key starting with '#': the task
 * item, snapshot chunks, run items) left out: the rows of a BatchWriteItem or TransactWriteItems,
 * or the key of a PutItem / UpdateItem / DeleteItem. Lets a test speak of "image writes" however
 * the store groups them.
 */
export function imageWrites(call: Pick<Call, "operation" | "input">): { table: string; imgIds: string[] } {
  const { table, sortKeys } = writtenSortKeys(call);
  return { table, imgIds: sortKeys.filter((sk) => !sk.startsWith("#")) };
}

/** How many snapshot chunk items (sort key `#split#…`) a call writes. */
export const chunkWrites = (call: Pick<Call, "operation" | "input">): number =>
  writtenSortKeys(call).sortKeys.filter((sk) => sk.startsWith("#split#")).length;

const publishes = (update: Json | undefined): boolean => {
  if (update?.Key?.[TABLE.sortKey]?.S !== TASK_ITEM_SK) return false;
  const aliases = (update.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const expression = String(update.UpdateExpression ?? "").replace(/#\w+/g, (alias) => aliases[alias] ?? alias);
  return /\bSET\s+live\s*=/.test(expression);
};

/**
 * True for a split's publish: an UpdateItem of the task item whose UpdateExpression starts with
 * `SET live =` (aliases resolved), or a TransactWriteItems holding such an update.
 */
export const isPublish = (call: Pick<Call, "operation" | "input">): boolean =>
  (call.operation === "UpdateItem" && publishes(call.input)) ||
  (call.operation === "TransactWriteItems" &&
    ((call.input.TransactItems ?? []) as Json[]).some((action) => publishes(action.Update)));

/** "BatchWriteItemCommand" or "BatchWriteItem": the operation name the proxy sees. */
export const operationName = (operation: string) => operation.replace(/Command$/, "");
