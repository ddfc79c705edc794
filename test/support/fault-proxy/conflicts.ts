import type { IncomingMessage } from "node:http";
import { type Item, type Json, keyOf } from "../capacity-model/index.ts";
import { transactionCanceled, transactionConflict } from "./answers.ts";
import type { Upstream } from "./upstream.ts";

/**
 * DynamoDB's transaction conflicts, which DynamoDB Local never raises. While a TransactWriteItems is
 * in flight (from the moment the proxy takes it on until DynamoDB Local has answered it) it holds
 * the items its actions name, Put, Update, Delete and ConditionCheck alike, by table and key. A
 * call that touches a held item is answered without being forwarded, as DynamoDB answers it:
 * - TransactWriteItems or TransactGetItems: TransactionCanceledException, CancellationReasons code
 *   TransactionConflict on each action naming a held item and None on the others;
 * - PutItem, UpdateItem, DeleteItem: TransactionConflictException.
 * The transaction that got there first goes on. Other reads, and BatchWriteItem, are never
 * refused, and a plain write in flight holds nothing. DynamoDB Local answers in about a
 * millisecond, so a transaction is held `holdMs` before it is forwarded (its items held meanwhile),
 * standing for the time a transaction takes in DynamoDB: overlaps then really happen.
 */

export interface ConflictOptions {
  /**
   * How long a TransactWriteItems waits, holding its items, before it is forwarded (default
   * DEFAULT_CONFLICT_HOLD_MS): the time a transaction takes in DynamoDB, during which calls on its
   * items conflict.
   */
  holdMs?: number;
}

/** A transaction's hold when `conflicts: true`: a few times what DynamoDB Local takes to answer one. */
export const DEFAULT_CONFLICT_HOLD_MS = 20;

/** A call's standing with the in-flight transactions. */
export interface ConflictCheck {
  /** The answer refusing the call, when it touches a held item. */
  refusal: Json | undefined;
  /** A TransactWriteItems let through: its items are held until `release`. */
  holding: boolean;
  release(): void;
}

export interface Conflicts {
  readonly holdMs: number;
  /** Calls refused so far. */
  readonly injected: number;
  /** Refuses the call, or (a TransactWriteItems let through) holds its items; undefined when it cannot conflict. */
  check(request: IncomingMessage, operation: string, input: Json): Promise<ConflictCheck | undefined>;
}

export function trackConflicts(upstream: Upstream, options: ConflictOptions): Conflicts {
  /** Items held by in-flight transactions (table and key), with how many hold each. */
  const held = new Map<string, number>();
  let injected = 0;

  /** The items (table and key, as text) each action of a call names; undefined for calls that cannot conflict. */
  const touchedItems = async (request: IncomingMessage, operation: string, input: Json) => {
    let named: { table: string; key: Item | undefined }[];
    if (operation === "TransactWriteItems")
      named = ((input.TransactItems ?? []) as Json[]).map((action) => {
        const a = action.Put ?? action.Update ?? action.Delete ?? action.ConditionCheck ?? {};
        return { table: String(a.TableName ?? ""), key: (a.Item ?? a.Key) as Item | undefined };
      });
    else if (operation === "TransactGetItems")
      named = ((input.TransactItems ?? []) as Json[]).map((action) => ({
        table: String(action.Get?.TableName ?? ""),
        key: action.Get?.Key as Item | undefined,
      }));
    else if (operation === "PutItem") named = [{ table: String(input.TableName ?? ""), key: input.Item }];
    else if (operation === "UpdateItem" || operation === "DeleteItem")
      named = [{ table: String(input.TableName ?? ""), key: input.Key }];
    else return undefined;
    const items: (string | undefined)[] = [];
    for (const { table, key } of named) {
      const schema = key ? await upstream.schemaOf(request, table) : undefined;
      items.push(schema && key ? `${table}\u0000${keyOf(schema, key)}` : undefined);
    }
    return items;
  };

  const check = async (
    request: IncomingMessage,
    operation: string,
    input: Json,
  ): Promise<ConflictCheck | undefined> => {
    const items = await touchedItems(request, operation, input);
    if (!items) return undefined;
    // No await from here on: checking and holding are one step.
    const clashes = items.map((item) => item !== undefined && (held.get(item) ?? 0) > 0);
    if (clashes.some(Boolean)) {
      injected++;
      const refusal = operation.startsWith("Transact")
        ? transactionCanceled(
            clashes.map((clash) =>
              clash
                ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" }
                : { Code: "None" },
            ),
          )
        : transactionConflict;
      return { refusal, holding: false, release: () => {} };
    }
    if (operation !== "TransactWriteItems") return undefined;
    const mine = [...new Set(items.filter((item): item is string => item !== undefined))];
    for (const item of mine) held.set(item, (held.get(item) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const item of mine) {
        const left = (held.get(item) ?? 1) - 1;
        if (left > 0) held.set(item, left);
        else held.delete(item);
      }
    };
    return { refusal: undefined, holding: true, release };
  };

  return {
    holdMs: options.holdMs ?? DEFAULT_CONFLICT_HOLD_MS,
    get injected() {
      return injected;
    },
    check,
  };
}
