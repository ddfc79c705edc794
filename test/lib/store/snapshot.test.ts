import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SET_TYPES, type SetType } from "../../../lib/model.ts";
import {
  CHUNK_IMAGES,
  chunkCount,
  chunkOf,
  codeAt,
  packSnapshot,
  snapshotSizes,
  unpackSnapshot,
  walkSet,
} from "../../../lib/store/snapshot.ts";

/** An assignment of order_ids 1..n with holes: `setOf[orderId]` is -1 (none or hole) or a set type. */
const assignment = (maxN: number) =>
  fc
    .integer({ min: 1, max: maxN })
    .chain((n) => fc.tuple(fc.constant(n), fc.array(fc.integer({ min: -1, max: 2 }), { minLength: n, maxLength: n })));

/** The images of an assignment in a shuffled order, as storage returns them (img_id order, not order_id). */
function imagesOf(setOf: number[], holes: Set<number>) {
  const orderIds: number[] = [];
  const sets: number[] = [];
  setOf.forEach((setType, i) => {
    if (holes.has(i + 1)) return;
    orderIds.push(i + 1);
    sets.push(setType);
  });
  return { orderIds, sets };
}

describe("packSnapshot / unpackSnapshot", () => {
  it("round-trips any assignment, holes and unassigned images alike, across chunk edges", () => {
    let runs = 0;
    fc.assert(
      fc.property(assignment(3 * CHUNK_IMAGES + 7), fc.integer({ min: 0, max: 50 }), ([n, setOf], holeCount) => {
        const holes = new Set(Array.from({ length: holeCount }, (_, k) => 1 + ((k * 7919) % n)));
        const { orderIds, sets } = imagesOf(setOf, holes);

        const chunks = packSnapshot(orderIds, sets, n);
        const back = unpackSnapshot(chunks, n);

        expect(chunks).toHaveLength(chunkCount(n));
        const expected = setOf.map((setType, i) => (holes.has(i + 1) ? -1 : setType));
        expect([...back.subarray(1)]).toEqual(expected);
        expect(snapshotSizes(chunks)).toEqual(SET_TYPES.map((t) => sets.filter((s) => s === t).length));
        runs++;
      }),
      { numRuns: 40 },
    );
    expect(runs).toBe(40);
  });

  it("packs 2 bits an image: a million images are 250 KB in 62 chunks", () => {
    const n = 1_000_000;
    const orderIds = Float64Array.from({ length: n }, (_, i) => i + 1);
    const setOf = Int8Array.from({ length: n }, (_, i) => (i % 10 < 7 ? 0 : i % 10 < 9 ? 2 : 1));

    const chunks = packSnapshot(orderIds, setOf, n);

    expect(chunks.reduce((bytes, chunk) => bytes + chunk.codes.length, 0)).toBe(250_000);
    expect(chunks).toHaveLength(62);
    expect(snapshotSizes(chunks)).toEqual([700_000, 100_000, 200_000]);
  });

  it("refuses an order_id outside 1..n or given twice", () => {
    expect(() => packSnapshot([0], [0], 5)).toThrow(/outside/);
    expect(() => packSnapshot([6], [0], 5)).toThrow(/outside/);
    expect(() => packSnapshot([2, 2], [0, 1], 5)).toThrow(/twice/);
  });

  it("codeAt reads each image's code; order_ids past the chunk read as none", () => {
    const chunks = packSnapshot([1, 2, 3, 5], [0, 1, 2, 0], 5);
    const chunk = chunks[0]!;
    expect([1, 2, 3, 4, 5, 6, 9].map((orderId) => codeAt(chunk, orderId))).toEqual([1, 2, 3, 0, 1, 0, 0]);
    expect(chunkOf(CHUNK_IMAGES)).toBe(0);
    expect(chunkOf(CHUNK_IMAGES + 1)).toBe(1);
  });
});

describe("walkSet", () => {
  it("pages through a set from any cursor: each member once, ascending, none skipped", () => {
    let runs = 0;
    fc.assert(
      fc.property(
        assignment(2 * CHUNK_IMAGES + 100),
        fc.constantFrom<SetType>(0, 1, 2),
        fc.integer({ min: 1, max: 5_000 }),
        ([n, setOf], setType, limit) => {
          const orderIds = setOf.map((_, i) => i + 1);
          const chunks = packSnapshot(orderIds, setOf, n);
          const members = orderIds.filter((_, i) => setOf[i] === setType);

          const walked: number[] = [];
          let after = 0;
          for (;;) {
            const from = chunkOf(after + 1);
            const page = walkSet(chunks.slice(from), setType, after, limit);
            walked.push(...page.orderIds);
            if (page.orderIds.length < limit) {
              expect(page.exhausted).toBe(true);
              break;
            }
            after = page.orderIds.at(-1) as number;
          }

          expect(walked).toEqual(members);
          runs++;
        },
      ),
      { numRuns: 30 },
    );
    expect(runs).toBe(30);
  });

  it("skips chunks without the set and starts strictly after the cursor", () => {
    const n = 3 * CHUNK_IMAGES;
    const orderIds = [5, CHUNK_IMAGES + 1, 2 * CHUNK_IMAGES + 9, 2 * CHUNK_IMAGES + 10];
    const chunks = packSnapshot(orderIds, [1, 0, 1, 1], n);

    expect(walkSet(chunks, 1, 0, 10).orderIds).toEqual([5, 2 * CHUNK_IMAGES + 9, 2 * CHUNK_IMAGES + 10]);
    expect(walkSet(chunks, 1, 5, 1).orderIds).toEqual([2 * CHUNK_IMAGES + 9]);
    expect(walkSet(chunks, 1, 2 * CHUNK_IMAGES + 9, 10)).toEqual({
      orderIds: [2 * CHUNK_IMAGES + 10],
      exhausted: true,
    });
    expect(walkSet(chunks, 2, 0, 10)).toEqual({ orderIds: [], exhausted: true });
  });
});
