/**
 * Controlled rounding of a proportional table: how many images of each stratum (label) go to each
 * column (set, or "unassigned").
 *
 * Given row totals r (images per stratum) and column totals c (images per set), both summing to N,
 * the exact share of cell (i, j) is q = r_i · c_j / N. The result x is an integer table with
 * - every row summing to r_i and every column to c_j, exactly;
 * - every cell the floor or the ceiling of q (so no stratum is ever more than one image away from
 *   its proportion in any set).
 *
 * Algorithm: every cell starts at its floor; then the cells with the largest remainders are
 * rounded up first (ties: the row of smaller `rank`, then the smaller column), each only while its
 * row and its column still lack units. When that greedy pass leaves a row short (its open cells
 * are all in columns already full), an augmenting path fixes it: the row takes a unit in a full
 * column j1, some row that was rounded up in j1 gives it up and takes one in j2 instead, and so on
 * until a column that still lacks a unit (breadth first over the few columns, so the path is
 * shortest). Such a path always exists, because the exact shares are a fractional solution of the
 * same transportation problem. Exact integer arithmetic (r_i · c_j < 2⁵³ for tasks of up to about
 * 9·10⁷ images), linear time in the number of cells plus a sort.
 */
export function roundShares(rows: readonly number[], cols: readonly number[], rank: readonly number[]): Int32Array {
  const R = rows.length;
  const K = cols.length;
  const N = rows.reduce((a, b) => a + b, 0);
  if (cols.reduce((a, b) => a + b, 0) !== N) throw new Error("roundShares: row and column totals differ");
  const x = new Int32Array(R * K);
  if (N === 0) return x;

  const rest = new Float64Array(R * K);
  const rowNeed = new Int32Array(R);
  const colNeed = new Float64Array(K);
  for (let j = 0; j < K; j++) colNeed[j] = cols[j]!;
  for (let i = 0; i < R; i++) {
    rowNeed[i] = rows[i]!;
    for (let j = 0; j < K; j++) {
      const exact = rows[i]! * cols[j]!;
      const floor = Math.floor(exact / N);
      x[i * K + j] = floor;
      rest[i * K + j] = exact - floor * N;
      rowNeed[i]! -= floor;
      colNeed[j]! -= floor;
    }
  }

  // Cells that may round up (a remainder), largest remainder first.
  const open: number[] = [];
  for (let cell = 0; cell < R * K; cell++) if (rest[cell]! > 0) open.push(cell);
  open.sort((a, b) => rest[b]! - rest[a]! || rank[Math.floor(a / K)]! - rank[Math.floor(b / K)]! || (a % K) - (b % K));
  const up = new Uint8Array(R * K);
  for (const cell of open) {
    const i = Math.floor(cell / K);
    const j = cell % K;
    if (rowNeed[i]! > 0 && colNeed[j]! > 0) {
      up[cell] = 1;
      x[cell]!++;
      rowNeed[i]!--;
      colNeed[j]!--;
    }
  }

  // Rows still short: augmenting paths over the columns. exchange[s*K+t] lists rows that are
  // rounded up in column s and could round up in column t instead (checked again when used).
  const canSwap = (i: number, s: number, t: number) =>
    up[i * K + s] === 1 && up[i * K + t] === 0 && rest[i * K + t]! > 0;
  const exchange = Array.from({ length: K * K }, () => [] as number[]);
  const offer = (i: number) => {
    for (let s = 0; s < K; s++)
      for (let t = 0; t < K; t++) if (s !== t && canSwap(i, s, t)) exchange[s * K + t]!.push(i);
  };
  let short = false;
  for (let i = 0; i < R; i++) short ||= rowNeed[i]! > 0;
  if (!short) return x;
  for (let i = 0; i < R; i++) offer(i);

  const viaRow = new Int32Array(K);
  const viaCol = new Int32Array(K);
  for (let i = 0; i < R; i++) {
    while (rowNeed[i]! > 0) {
      viaRow.fill(-1);
      const queue: number[] = [];
      for (let t = 0; t < K; t++) {
        if (up[i * K + t] === 0 && rest[i * K + t]! > 0) {
          viaRow[t] = i;
          viaCol[t] = -1;
          queue.push(t);
        }
      }
      let end = -1;
      for (let head = 0; head < queue.length && end === -1; head++) {
        const s = queue[head]!;
        if (colNeed[s]! > 0) {
          end = s;
          break;
        }
        for (let t = 0; t < K; t++) {
          if (viaRow[t] !== -1 || t === s) continue;
          const list = exchange[s * K + t]!;
          while (list.length > 0 && !canSwap(list.at(-1)!, s, t)) list.pop();
          const other = list.at(-1);
          if (other === undefined) continue;
          viaRow[t] = other;
          viaCol[t] = s;
          queue.push(t);
        }
      }
      if (end === -1) throw new Error("roundShares: no augmenting path (the totals are inconsistent)");
      // Walk back: each row on the path rounds up in t and (except the first) gives up its unit in s.
      const touched: number[] = [];
      for (let t = end; ; ) {
        const row = viaRow[t]!;
        const s = viaCol[t]!;
        up[row * K + t] = 1;
        x[row * K + t]!++;
        touched.push(row);
        if (s === -1) break;
        up[row * K + s] = 0;
        x[row * K + s]!--;
        t = s;
      }
      rowNeed[i]!--;
      colNeed[end]!--;
      for (const row of touched) offer(row);
    }
  }
  return x;
}
