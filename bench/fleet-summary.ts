/**
 * What the fleet bench (bench/fleet.ts) makes of its measurements: the spread of the runs' times,
 * a tally of their outcomes, and how long a crowd of runs due at once takes to drain.
 */
import type { ResplitResult } from "../lib/split/resplit.ts";

/** The outcome of a run that published its split. */
export const PUBLISHED = "published";

/** Nearest-rank percentile (0 < p ≤ 100) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Spread {
  p50: number;
  p95: number;
  max: number;
}

export const spreadOf = (values: readonly number[]): Spread => ({
  p50: percentile(values, 50),
  p95: percentile(values, 95),
  max: percentile(values, 100),
});

/**
 * One run's outcome in a word or two: `published`, `skipped <code>`, `failed <code>`, or `none`
 * when the run did nothing (no schedule, another revision, delivered again).
 */
export function outcomeOf(results: readonly ResplitResult[]): string {
  const [result] = results;
  if (!result) return "none";
  if (result.outcome === "split") return PUBLISHED;
  return result.code === undefined ? result.outcome : `${result.outcome} ${result.code}`;
}

export interface Tally {
  published: number;
  /** Every other outcome with its count, the most frequent first. */
  others: [outcome: string, count: number][];
}

export function tallyOutcomes(outcomes: readonly string[]): Tally {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const published = counts.get(PUBLISHED) ?? 0;
  counts.delete(PUBLISHED);
  const others = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  return { published, others };
}

/** `1,000 published` or `998 published, failed 1500 ×2`. */
export const tallyText = ({ published, others }: Tally): string =>
  [
    `${published.toLocaleString("en")} ${PUBLISHED}`,
    ...others.map(([outcome, count]) => `${outcome} ×${count.toLocaleString("en")}`),
  ].join(", ");

export interface Drain {
  runsPerMinute: number;
  /** Minutes until the last of the runs due at once has finished. */
  minutes: number;
}

/**
 * `due` runs queued at once and run at the pace measured (`runs` in `elapsedMs`, at the same
 * concurrency): how long the queue takes to empty.
 */
export function drainOf(measured: { runs: number; elapsedMs: number }, due: number): Drain {
  const runsPerMinute = (measured.runs * 60_000) / measured.elapsedMs;
  return { runsPerMinute, minutes: due / runsPerMinute };
}
