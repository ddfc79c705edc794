/** Reshaping requests and answers: what is forwarded, and what the caller gets back. */

import type { Item, Json } from "../capacity-model/index.ts";

/**
 * The `unprocessed` fault: a BatchWriteItem or BatchGetItem with only its first `keep` requests
 * (or keys), and the rest as the UnprocessedItems / UnprocessedKeys to answer.
 */
export function keepFirstRequests(operation: string, input: Json, keep: number): { body: Json; unprocessed: Json } {
  if (operation === "BatchWriteItem") {
    const [kept, rest] = splitRequests(input.RequestItems as Record<string, Json[]>, keep);
    return { body: { ...input, RequestItems: kept }, unprocessed: { UnprocessedItems: rest } };
  }
  const tables = input.RequestItems as Record<string, Json>;
  const keys = Object.fromEntries(Object.entries(tables).map(([table, spec]) => [table, spec.Keys as Json[]]));
  const [kept, rest] = splitRequests(keys, keep);
  const wrap = (part: Record<string, Json[]>) =>
    Object.fromEntries(Object.entries(part).map(([table, list]) => [table, { ...tables[table], Keys: list }]));
  return { body: { ...input, RequestItems: wrap(kept) }, unprocessed: { UnprocessedKeys: wrap(rest) } };
}

/** Splits per-table request lists into the first `keep` requests overall and the rest. */
function splitRequests<T>(tables: Record<string, T[]>, keep: number): [Record<string, T[]>, Record<string, T[]>] {
  const kept: Record<string, T[]> = {};
  const rest: Record<string, T[]> = {};
  let left = keep;
  for (const [table, list] of Object.entries(tables)) {
    for (const item of list) {
      const into = left > 0 ? kept : rest;
      if (left > 0) left--;
      (into[table] ??= []).push(item);
    }
  }
  return [kept, rest];
}

export function mergeUnprocessed(output: Json, unprocessed: Json): Json {
  const merged = { ...output };
  for (const field of ["UnprocessedItems", "UnprocessedKeys"]) {
    const extra = unprocessed[field] as Record<string, any> | undefined;
    if (!extra || Object.keys(extra).length === 0) continue;
    const existing = { ...((output[field] as Record<string, any>) ?? {}) };
    for (const [table, value] of Object.entries(extra)) {
      if (field === "UnprocessedItems") existing[table] = [...(existing[table] ?? []), ...value];
      else existing[table] = { ...value, Keys: [...(existing[table]?.Keys ?? []), ...value.Keys] };
    }
    merged[field] = existing;
  }
  return merged;
}

/** Removes what makes DynamoDB return less than whole items (top-level ProjectionExpression, Select), for sizing. */
export function unproject(spec: Json): { spec: Json; pick?: string[]; countOnly: boolean; changed: boolean } {
  const projection = spec.ProjectionExpression as string | undefined;
  const countOnly = spec.Select === "COUNT";
  const nested = projection !== undefined && /[.[]/.test(projection);
  if (nested || spec.AttributesToGet !== undefined || (projection === undefined && !countOnly))
    return { spec, countOnly: false, changed: false };
  const { ProjectionExpression: _p, Select: select, ExpressionAttributeNames: aliases, ...rest } = spec;
  const out: Json = { ...rest };
  if (select !== undefined && select !== "COUNT" && select !== "SPECIFIC_ATTRIBUTES") out.Select = select;
  const used = new Set(
    ["KeyConditionExpression", "FilterExpression", "ConditionExpression"].flatMap(
      (field) => String(spec[field] ?? "").match(/#\w+/g) ?? [],
    ),
  );
  const kept = Object.entries((aliases ?? {}) as Record<string, string>).filter(([alias]) => used.has(alias));
  if (kept.length > 0) out.ExpressionAttributeNames = Object.fromEntries(kept);
  const pick = projection
    ?.split(",")
    .map((token) => token.trim())
    .map((token) => (token.startsWith("#") ? (aliases?.[token] ?? token) : token));
  return { spec: out, ...(pick ? { pick } : {}), countOnly, changed: true };
}

export const pickAttributes = (item: Item, names: string[] | undefined): Item =>
  names
    ? Object.fromEntries(names.filter((name) => item[name] !== undefined).map((name) => [name, item[name]!]))
    : item;

export function groupBy<T, K>(list: T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of list) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
