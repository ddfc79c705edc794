import { ServiceError } from "../../errors.ts";
import { compareIds, listLabels } from "./names.ts";
import type { Strata } from "./strata.ts";
import { BINS, NO_SET, type PlanColumns } from "./types.ts";

/**
 * Blocks of images that must land in one bin (groups, or lone images), as the group planner sees
 * them: unit u has `size[u]` images, may go to the bins in the bit mask `allowed[u]` (bit b: bin b),
 * and holds `counts[k]` images of stratum `rows[k]` for k in `start[u]` … `start[u + 1] - 1`.
 */
export interface Units {
  size: Int32Array;
  allowed: Uint8Array;
  start: Int32Array;
  rows: Int32Array;
  counts: Int32Array;
}

/**
 * Places whole units into `bins` bins, largest unit first (ties: the lower unit number, which the
 * caller makes a seeded random order), each into the allowed bin where it brings the per-stratum
 * deficits closest to zero:
 *   cost(b) = Σ over the unit's strata s of |deficit[s][b] − count_s| − |deficit[s][b]|,
 * the smallest cost wins, then the bin with the largest total deficit, then the lower bin number.
 * With one stratum this is "the bin with the largest remaining deficit" (a unit that fits anywhere
 * goes where most is missing; one that fits nowhere goes where it overshoots least).
 *
 * `deficit` (strata × bins, row-major) and `total` (per bin) start at the targets and are updated
 * in place. Returns the bin of every unit. A unit allowed no bin is an error.
 */
export function placeUnits(units: Units, deficit: Float64Array, total: Float64Array): Int8Array {
  const bins = total.length;
  const { size, allowed, start, rows, counts } = units;
  const count = size.length;
  const binOf = new Int8Array(count).fill(-1);
  const order = new Int32Array(count);
  for (let u = 0; u < count; u++) order[u] = u;
  order.sort((a, b) => size[b]! - size[a]! || a - b);
  for (const u of order) {
    let best = -1;
    let bestCost = Infinity;
    for (let b = 0; b < bins; b++) {
      if ((allowed[u]! & (1 << b)) === 0) continue;
      let cost = 0;
      for (let k = start[u]!; k < start[u + 1]!; k++) {
        const d = deficit[rows[k]! * bins + b]!;
        cost += Math.abs(d - counts[k]!) - Math.abs(d);
      }
      if (cost < bestCost || (cost === bestCost && total[b]! > total[best]!)) {
        best = b;
        bestCost = cost;
      }
    }
    if (best === -1) throw new Error(`placeUnits: unit ${u} may go nowhere`);
    binOf[u] = best;
    total[best]! -= size[u]!;
    for (let k = start[u]!; k < start[u + 1]!; k++) deficit[rows[k]! * bins + best]! -= counts[k]!;
  }
  return binOf;
}

/**
 * group_by "group": places the pool's groups (an image without a group is a group of one) whole by
 * placeUnits and writes their bins into `bin`. With keep, a group that already has images in a set
 * may only join that set (or stay out), and a group spread over several sets is refused (1021);
 * with lock, a group that has images in the locked testing set stays out of every set. Returns how
 * many images were held back for that reason.
 */
export function placeGroups(
  images: PlanColumns,
  pool: Int32Array,
  bin: Int8Array,
  deficit: readonly number[],
  strata: Strata | undefined,
  keep: boolean,
  lock: boolean,
): number {
  const anchor = anchorsOf(images, bin, keep);
  const { unitOf, sizes, allowed } = unitsOf(images, pool, anchor, lock);
  let heldBack = 0;
  for (let u = 0; u < sizes.length; u++) if (allowed[u] === 1 << NO_SET) heldBack += sizes[u]!;
  const { start, rows, counts } = strata ? unitStrata(pool, unitOf, sizes, strata) : oneStratum(sizes);
  const placed = placeUnits(
    { size: Int32Array.from(sizes), allowed: Uint8Array.from(allowed), start, rows, counts },
    strata ? strata.quota : Float64Array.from(deficit),
    Float64Array.from(deficit),
  );
  for (const i of pool) bin[i] = placed[unitOf[i]!]!;
  return heldBack;
}

/**
 * The bin the fixed images already hold each group in (by group number; -1: none); with keep,
 * refuses a group spread over several (1021).
 */
function anchorsOf({ groupOf, groups }: PlanColumns, bin: Int8Array, keep: boolean): Int8Array {
  const anchor = new Int8Array(groups.length).fill(-1);
  const isSpread = new Uint8Array(groups.length);
  const spread: string[] = [];
  for (let i = 0; i < bin.length; i++) {
    const group = groupOf[i]!;
    if (bin[i] === -1 || group === -1) continue;
    const held = anchor[group]!;
    if (held === -1) anchor[group] = bin[i]!;
    else if (held !== bin[i] && isSpread[group] === 0) {
      isSpread[group] = 1;
      spread.push(groups[group]!);
    }
  }
  if (keep && spread.length > 0) {
    spread.sort(compareIds);
    throw new ServiceError(
      1021,
      { reason: `组 ${listLabels(spread)} 已分布在多个集合中` },
      { detail: `mode keep with group_by: groups already spread over several sets: ${spread.slice(0, 20).join(", ")}` },
    );
  }
  return anchor;
}

/** The pool's units, numbered in permutation order of their first image, with their sizes and allowed bins. */
function unitsOf({ groupOf, groups }: PlanColumns, pool: Int32Array, anchor: Int8Array, lock: boolean) {
  const everywhere = lock ? 0b1011 : 0b1111; // a locked testing set takes no new images
  const unitOf = new Int32Array(groupOf.length);
  const unitOfGroup = new Int32Array(groups.length).fill(-1);
  const sizes: number[] = [];
  const allowed: number[] = [];
  for (const i of pool) {
    const group = groupOf[i]!;
    let u = group === -1 ? -1 : unitOfGroup[group]!;
    if (u === -1) {
      u = sizes.length;
      const held = group === -1 ? -1 : anchor[group]!;
      sizes.push(0);
      allowed.push(held === -1 ? everywhere : lock ? 1 << NO_SET : (1 << held) | (1 << NO_SET));
      if (group !== -1) unitOfGroup[group] = u;
    }
    sizes[u]!++;
    unitOf[i] = u;
  }
  return { unitOf, sizes, allowed };
}

/** Each unit's strata and their image counts (CSR): images bucketed by unit, then counted per row. */
function unitStrata(pool: Int32Array, unitOf: Int32Array, sizes: readonly number[], strata: Strata) {
  const count = sizes.length;
  const start = new Int32Array(count + 1);
  // At most one entry an image: filled up to `used`, then viewed, never copied.
  const rows = new Int32Array(pool.length);
  const counts = new Int32Array(pool.length);
  let used = 0;
  const first = new Int32Array(count + 1);
  for (let u = 0; u < count; u++) first[u + 1] = first[u]! + sizes[u]!;
  const fill = first.slice(0, count);
  const byUnit = new Int32Array(pool.length);
  for (const i of pool) byUnit[fill[unitOf[i]!]!++] = i;
  const tally = new Int32Array(strata.quota.length / BINS);
  for (let u = 0; u < count; u++) {
    start[u] = used;
    for (let k = first[u]!; k < first[u + 1]!; k++) {
      const row = strata.rowOf[byUnit[k]!]!;
      if (tally[row]!++ === 0) rows[used++] = row;
    }
    for (let k = start[u]!; k < used; k++) {
      counts[k] = tally[rows[k]!]!;
      tally[rows[k]!] = 0;
    }
  }
  start[count] = used;
  return { start, rows: rows.subarray(0, used), counts: counts.subarray(0, used) };
}

/** Without strata: every unit is all of one stratum (row 0). */
function oneStratum(sizes: readonly number[]) {
  const count = sizes.length;
  return {
    start: Int32Array.from({ length: count + 1 }, (_, u) => u),
    rows: new Int32Array(count),
    counts: Int32Array.from(sizes),
  };
}
