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
  const N = rows.reduce((a, b) => a + b, 0);
  if (cols.reduce((a, b) => a + b, 0) !== N) throw new Error("roundShares: row and column totals differ");
  if (N === 0) return new Int32Array(rows.length * cols.length);
  const table = floors(rows, cols, N);
  roundUpLargest(table, rank);
  if (table.rowNeed.some((need) => need > 0)) repairShortRows(table);
  return table.x;
}

/** The table being rounded: R rows × K columns, row-major. */
interface Table {
  R: number;
  K: number;
  /** The rounded cells so far. */
  x: Int32Array;
  /** Remainder of each cell's exact share, times N (> 0: the cell may round up). */
  rest: Float64Array;
  /** 1 where the cell has been rounded up. */
  up: Uint8Array;
  /** Units each row and each column still lacks. */
  rowNeed: Int32Array;
  colNeed: Float64Array;
}

/** Every cell at the floor of its share, with the remainders and what each row and column still lacks. */
function floors(rows: readonly number[], cols: readonly number[], N: number): Table {
  const R = rows.length;
  const K = cols.length;
  const x = new Int32Array(R * K);
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
  return { R, K, x, rest, up: new Uint8Array(R * K), rowNeed, colNeed };
}

/** The greedy pass: cells with a remainder, largest first, round up while their row and column lack units. */
function roundUpLargest({ R, K, x, rest, up, rowNeed, colNeed }: Table, rank: readonly number[]): void {
  const open: number[] = [];
  for (let cell = 0; cell < R * K; cell++) if (rest[cell]! > 0) open.push(cell);
  open.sort((a, b) => rest[b]! - rest[a]! || rank[Math.floor(a / K)]! - rank[Math.floor(b / K)]! || (a % K) - (b % K));
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
}

/**
 * Rows the greedy pass left short, each unit by an augmenting path over the columns.
 * exchange[s*K+t] lists rows that are rounded up in column s and could round up in column t
 * instead (checked again when used).
 */
function repairShortRows(table: Table): void {
  const { R, K, up, rest, rowNeed, colNeed } = table;
  const canSwap = (i: number, s: number, t: number) =>
    up[i * K + s] === 1 && up[i * K + t] === 0 && rest[i * K + t]! > 0;
  const exchange = Array.from({ length: K * K }, () => [] as number[]);
  const offer = (i: number) => {
    for (let s = 0; s < K; s++)
      for (let t = 0; t < K; t++) if (s !== t && canSwap(i, s, t)) exchange[s * K + t]!.push(i);
  };
  for (let i = 0; i < R; i++) offer(i);
  const path: Path = { viaRow: new Int32Array(K), viaCol: new Int32Array(K) };
  for (let i = 0; i < R; i++) {
    while (rowNeed[i]! > 0) {
      const end = findPath(table, i, path, exchange, canSwap);
      if (end === -1) throw new Error("roundShares: no augmenting path (the totals are inconsistent)");
      const touched = applyPath(table, end, path);
      rowNeed[i]!--;
      colNeed[end]!--;
      for (const row of touched) offer(row);
    }
  }
}

/** Breadth-first search state: the row that reaches column t (`viaRow[t]`, -1: unreached) and from which column (`viaCol[t]`, -1: the short row itself). */
interface Path {
  viaRow: Int32Array;
  viaCol: Int32Array;
}

/** The shortest path from short row `i` to a column that still lacks a unit; returns that column, or -1. */
function findPath(
  { K, up, rest, colNeed }: Table,
  i: number,
  { viaRow, viaCol }: Path,
  exchange: number[][],
  canSwap: (i: number, s: number, t: number) => boolean,
): number {
  viaRow.fill(-1);
  const queue: number[] = [];
  for (let t = 0; t < K; t++) {
    if (up[i * K + t] === 0 && rest[i * K + t]! > 0) {
      viaRow[t] = i;
      viaCol[t] = -1;
      queue.push(t);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head]!;
    if (colNeed[s]! > 0) return s;
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
  return -1;
}

/** Walks the path back from `end`: each row on it rounds up in t and (except the first) gives up its unit in s. Returns the rows touched. */
function applyPath({ K, x, up }: Table, end: number, { viaRow, viaCol }: Path): number[] {
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
  return touched;
}
