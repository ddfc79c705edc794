import type { Capped } from "./model.ts";

/**
 * Bytes one list of a split record or a split answer may take: label counts, rare labels and
 * leaked groups grow with the task's labels and groups, and neither a record item (400 KB) nor
 * an answer may grow with them.
 */
export const LIST_BYTES = 16 * 1024;

/** The bytes `value` takes in an answer body carried as a JSON string (its quotes and backslashes escaped again). */
const carriedBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(JSON.stringify(value))) - 2;

/** The first entries of `list` that fit in `maxBytes` (each with its separating comma), and the list's length. */
export function capList<T>(list: readonly T[], maxBytes: number = LIST_BYTES): Capped<T> {
  const items: T[] = [];
  let bytes = 2;
  for (const entry of list) {
    bytes += carriedBytes(entry) + 1;
    if (bytes > maxBytes) break;
    items.push(entry);
  }
  return { items, total: list.length };
}

/** True when the list kept fewer entries than it had. */
export const truncated = (list: Capped<unknown>): boolean => list.items.length < list.total;
