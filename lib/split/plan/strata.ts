import { ServiceError } from "../../errors.ts";
import type { RareLabelPolicy } from "../../model.ts";
import { shuffle } from "../shuffle.ts";
import { compareIds, listLabels } from "./names.ts";
import { roundShares } from "./rounding.ts";
import { tieBreaker } from "./sizes.ts";
import { BINS, type PlanColumns } from "./types.ts";

/** stratify_by "label": the pool's strata and how many images of each every bin gets. */
export interface Strata {
  /** Stratum (row) of image i, for pool images. */
  rowOf: Int32Array;
  /** Rows × bins: how many images of each stratum each bin should get (row-major). */
  quota: Float64Array;
  /** Rare labels, code-unit order. */
  rare: string[];
}

/** The pool's labels, numbered in order of appearance, with their sizes. */
interface PoolLabels {
  /** Number of each label of the columns (-1: not in the pool). */
  numberOf: Int32Array;
  found: string[];
  sizes: number[];
  unlabelled: number;
}

/** The rows of the table to round, before the rounding. */
interface Rows {
  /** Row of each label number. */
  rowOfLabel: Int32Array;
  /** Images per row. */
  totals: number[];
  /** Rows placed whole in training (rare labels, policy "training"). */
  pinned: boolean[];
  /** Row of the unlabelled images. */
  noLabelRow: number;
}

/**
 * The strata of the pool and their quotas per bin. A label with fewer pool images than bins of
 * `deficit` that receive images is rare: policy "training" pins it whole to training (1020 when the
 * rare images outnumber training's deficit), "random" pools the rare labels into one stratum,
 * "error" refuses with 1020. Rows in canonical order: the labels (code-unit order), then the
 * unlabelled images, then ("random") the rare labels pooled. The table is rounded by roundShares,
 * ties by a seeded order of the rows.
 */
export function stratifyPool(
  images: PlanColumns,
  pool: Int32Array,
  deficit: readonly number[],
  policy: RareLabelPolicy,
  seed: string,
): Strata {
  const labels = labelsOfPool(images, pool);
  const { found, sizes } = labels;
  const receiving = deficit.slice(0, 3).filter((d) => d > 0).length;
  const byName = found.map((_, k) => k).sort((a, b) => compareIds(found[a]!, found[b]!));
  const rare = byName.filter((k) => sizes[k]! < receiving);
  const rareNames = rare.map((k) => found[k]!);
  const rareTotal = rare.reduce((total, k) => total + sizes[k]!, 0);
  if (rare.length > 0 && (policy === "error" || (policy === "training" && rareTotal > deficit[0]!))) {
    throw new ServiceError(
      1020,
      { policy, labels: listLabels(rareNames) },
      {
        detail: `labels with fewer images than the ${receiving} sets to fill, under rare_labels "${policy}": ${rareNames.slice(0, 20).join(", ")}`,
      },
    );
  }
  const rows = strataRows(labels, byName, rare, policy);
  const quota = quotas(rows, deficit, seed);
  const rowOf = new Int32Array(images.ids.length).fill(-1);
  for (const i of pool) {
    const label = images.labelOf[i]!;
    rowOf[i] = label === -1 ? rows.noLabelRow : rows.rowOfLabel[labels.numberOf[label]!]!;
  }
  return { rowOf, quota, rare: rareNames };
}

/** Labels numbered in order of appearance in the pool, then sized. */
function labelsOfPool({ labelOf, labels }: PlanColumns, pool: Int32Array): PoolLabels {
  const numberOf = new Int32Array(labels.length).fill(-1);
  const found: string[] = [];
  const sizes: number[] = [];
  let unlabelled = 0;
  for (const i of pool) {
    const label = labelOf[i]!;
    if (label === -1) {
      unlabelled++;
      continue;
    }
    let k = numberOf[label]!;
    if (k === -1) {
      k = found.length;
      numberOf[label] = k;
      found.push(labels[label]!);
      sizes.push(0);
    }
    sizes[k]!++;
  }
  return { numberOf, found, sizes, unlabelled };
}

/** The rows: each label not pooled (code-unit order, `byName`), the unlabelled, the pooled rare labels. */
function strataRows(labels: PoolLabels, byName: readonly number[], rare: readonly number[], policy: RareLabelPolicy) {
  const { found, sizes, unlabelled } = labels;
  const isRare = new Uint8Array(found.length);
  for (const k of rare) isRare[k] = 1;
  const rowOfLabel = new Int32Array(found.length);
  const totals: number[] = [];
  const pinned: boolean[] = [];
  for (const k of byName) {
    if (isRare[k] && policy === "random") continue;
    rowOfLabel[k] = totals.length;
    totals.push(sizes[k]!);
    pinned.push(isRare[k] === 1);
  }
  const noLabelRow = totals.length;
  if (unlabelled > 0) {
    totals.push(unlabelled);
    pinned.push(false);
  }
  if (policy === "random" && rare.length > 0) {
    for (const k of rare) rowOfLabel[k] = totals.length;
    totals.push(rare.reduce((total, k) => total + sizes[k]!, 0));
    pinned.push(false);
  }
  return { rowOfLabel, totals, pinned, noLabelRow } satisfies Rows;
}

/** Rows × bins quotas: pinned rows whole in training, the others rounded in proportion to the deficits. */
function quotas({ totals, pinned }: Rows, deficit: readonly number[], seed: string): Float64Array {
  const rows = totals.length;
  const rank = new Array<number>(rows);
  shuffle(
    Array.from({ length: rows }, (_, r) => r),
    tieBreaker(seed, "strata"),
  ).forEach((row, position) => {
    rank[row] = position;
  });
  const free = totals.map((_, r) => r).filter((r) => !pinned[r]);
  const cols = deficit.slice();
  for (let r = 0; r < rows; r++) if (pinned[r]) cols[0]! -= totals[r]!;
  const rounded = roundShares(
    free.map((r) => totals[r]!),
    cols,
    free.map((r) => rank[r]!),
  );
  const quota = new Float64Array(rows * BINS);
  for (let r = 0; r < rows; r++) if (pinned[r]) quota[r * BINS] = totals[r]!;
  free.forEach((r, k) => {
    for (let b = 0; b < BINS; b++) quota[r * BINS + b] = rounded[k * BINS + b]!;
  });
  return quota;
}

/** Each label's pool images, in permutation order, fill its quotas in bin order. */
export function fillQuotas(pool: Int32Array, bin: Int8Array, strata: Strata): void {
  const quota = strata.quota;
  for (const i of pool) {
    const row = strata.rowOf[i]!;
    let b = 0;
    while (quota[row * BINS + b] === 0) b++;
    quota[row * BINS + b]!--;
    bin[i] = b;
  }
}
