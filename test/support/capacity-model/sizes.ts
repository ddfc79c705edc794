import type { AttributeValue, Item } from "./schema.ts";

/**
 * Item size (bytes): sum over attributes of UTF-8 name bytes + value size; string: UTF-8 bytes;
 * number: ceil(significant digits / 2) + 1 (leading/trailing zeros, sign, point and exponent not
 * counted; 0 is 1 byte); binary: raw bytes (base64-decoded); boolean, null: 1; list: 3 + per element
 * (1 + element size); map: 3 + per entry (1 + key bytes + value size); sets: sum of the elements.
 *
 * Read units: GetItem and each BatchGetItem key ceil(item size / 4 KB) (an item not found counts as
 * one 4 KB unit); Query / Scan the summed size of the items of the page, rounded up to 4 KB (minimum
 * one unit); halved when eventually consistent (index queries always are), so 0.5 at the least.
 */

export const KB = 1024;
/** Largest Query/Scan page. */
export const PAGE_BYTES = 1024 * KB;

const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

/** Bytes of a number value: ceil(significant digits / 2) + 1. */
export function numberSize(text: string): number {
  const mantissa = text.trim().replace(/^[+-]/, "").split(/[eE]/)[0] ?? "";
  const digits = mantissa.replace(".", "").replace(/^0+/, "").replace(/0+$/, "").length;
  return digits === 0 ? 1 : Math.ceil(digits / 2) + 1;
}

/** Bytes of one attribute value (without its name). */
export function attributeValueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(String(value.S));
  if (value.N !== undefined) return numberSize(String(value.N));
  if (value.B !== undefined) return Buffer.from(String(value.B), "base64").length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return (value.SS as string[]).reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return (value.NS as string[]).reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined)
    return (value.BS as string[]).reduce((sum, b) => sum + Buffer.from(b, "base64").length, 0);
  if (value.L !== undefined)
    return 3 + (value.L as AttributeValue[]).reduce((sum, element) => sum + 1 + attributeValueSize(element), 0);
  if (value.M !== undefined)
    return (
      3 +
      Object.entries(value.M as Item).reduce(
        (sum, [name, element]) => sum + 1 + utf8(name) + attributeValueSize(element),
        0,
      )
    );
  return 0;
}

/** Bytes of an item: names plus values. */
export const itemSize = (item: Item | undefined): number =>
  item ? Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + attributeValueSize(value), 0) : 0;

/** Write units for `bytes`: per started KB, minimum 1. */
export const writeUnitsFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));

/** Read units for `bytes` read in one item or one page: per started 4 KB (minimum one), halved when eventually consistent. */
export const readUnitsFor = (bytes: number, consistent: boolean): number =>
  Math.max(1, Math.ceil(bytes / (4 * KB))) * (consistent ? 1 : 0.5);

/** Units of a Query/Scan page from the whole items it read. */
export const pageReadUnits = (items: Item[], consistent: boolean): number =>
  readUnitsFor(
    items.reduce((sum, item) => sum + itemSize(item), 0),
    consistent,
  );
