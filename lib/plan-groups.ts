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
