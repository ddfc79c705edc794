import { SET_TYPES, type SetType } from "../model.ts";

/**
 * A split's snapshot, packed: the assignment of order_ids 1..n, 2 bits an image (0 in no set,
 * setType + 1 otherwise), four images a byte, lowest bits first. Cut into chunks of
 * CHUNK_IMAGES order_ids, each stored as one item with its per-set counts: 4 KiB of codes, so
 * reading a chunk costs one read unit and a page reads only the chunks its walk reaches; a
 * million images are 62 chunks, 250 KB. Pure: no storage here.
 */
export const CHUNK_IMAGES = 16_384;
const CHUNK_BYTES = CHUNK_IMAGES / 4;

/** One stored chunk: which order_ids it covers and how many of each set it holds. */
export interface Chunk {
  index: number;
  /** Packed codes of order_ids index·CHUNK_IMAGES + 1 … (the last chunk may be shorter). */
  codes: Uint8Array;
  /** Images of each set in this chunk, by set type. */
  counts: [number, number, number];
}

export const chunkCount = (n: number): number => Math.ceil(n / CHUNK_IMAGES);

/** The chunk holding order_id `orderId` (1-based). */
export const chunkOf = (orderId: number): number => Math.floor((orderId - 1) / CHUNK_IMAGES);

/** The code of order_id `orderId` in a chunk (0 when the chunk does not reach it). */
export function codeAt(chunk: Chunk, orderId: number): number {
  const offset = orderId - 1 - chunk.index * CHUNK_IMAGES;
  const byte = chunk.codes[offset >> 2];
  return byte === undefined ? 0 : (byte >> ((offset & 3) * 2)) & 3;
}

/**
 * Packs an assignment into chunks. `orderIds[i]` and `setOf[i]` describe image i (setOf -1: in no
 * set); `n` is the highest order_id the split saw, so order_ids up to n that no image holds (holes,
 * images registered while the split ran) stay 0.
 */
export function packSnapshot(orderIds: ArrayLike<number>, setOf: ArrayLike<number>, n: number): Chunk[] {
  const chunks: Chunk[] = Array.from({ length: chunkCount(n) }, (_, index) => ({
    index,
    codes: new Uint8Array(Math.min(CHUNK_BYTES, Math.ceil((n - index * CHUNK_IMAGES) / 4))),
    counts: [0, 0, 0],
  }));
  for (let i = 0; i < orderIds.length; i++) {
    const setType = setOf[i] as number;
    if (setType < 0) continue;
    const orderId = orderIds[i] as number;
    if (!Number.isSafeInteger(orderId) || orderId < 1 || orderId > n) {
      throw new Error(`packSnapshot: order_id ${orderId} outside 1..${n}`);
    }
    const chunk = chunks[chunkOf(orderId)] as Chunk;
    const offset = orderId - 1 - chunk.index * CHUNK_IMAGES;
    const shift = (offset & 3) * 2;
    if (((chunk.codes[offset >> 2] as number) >> shift) & 3) throw new Error(`packSnapshot: order_id ${orderId} twice`);
    chunk.codes[offset >> 2] = (chunk.codes[offset >> 2] as number) | ((setType + 1) << shift);
    chunk.counts[setType as SetType]++;
  }
  return chunks;
}

/** The set of every order_id 1..n of a whole snapshot (chunks in order), -1 for none: the inverse of packSnapshot. */
export function unpackSnapshot(chunks: readonly Chunk[], n: number): Int8Array {
  const setOf = new Int8Array(n + 1).fill(-1);
  for (const chunk of chunks) {
    const first = chunk.index * CHUNK_IMAGES + 1;
    const last = Math.min(n, first + CHUNK_IMAGES - 1);
    for (let orderId = first; orderId <= last; orderId++) setOf[orderId] = codeAt(chunk, orderId) - 1;
  }
  return setOf;
}

/**
 * Up to `limit` order_ids of `setType` after `after`, ascending, from consecutive chunks
 * (`chunks[0]` must hold order_id after + 1, or be a later chunk with none of the set before it).
 * Stops at the end of the chunks given: `exhausted` tells whether the walk needs the next chunk.
 */
export function walkSet(
  chunks: readonly Chunk[],
  setType: SetType,
  after: number,
  limit: number,
): { orderIds: number[]; exhausted: boolean } {
  const code = setType + 1;
  const orderIds: number[] = [];
  for (const chunk of chunks) {
    const base = chunk.index * CHUNK_IMAGES;
    const skipped = Math.max(0, after - base);
    if (chunk.counts[setType] === 0 || skipped >= chunk.codes.length * 4) continue;
    for (let byteIndex = skipped >> 2; byteIndex < chunk.codes.length; byteIndex++) {
      const byte = chunk.codes[byteIndex] as number;
      if (byte === 0) continue;
      for (let k = 0; k < 4; k++) {
        const offset = byteIndex * 4 + k;
        if (offset < skipped || ((byte >> (k * 2)) & 3) !== code) continue;
        orderIds.push(base + offset + 1);
        if (orderIds.length === limit) return { orderIds, exhausted: false };
      }
    }
  }
  return { orderIds, exhausted: true };
}

/** Images per set over all chunks. */
export const snapshotSizes = (chunks: readonly Chunk[]): [number, number, number] =>
  SET_TYPES.map((setType) => chunks.reduce((sum, chunk) => sum + chunk.counts[setType], 0)) as [number, number, number];
