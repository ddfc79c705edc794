/**
 * The bench's report: rows printed as a table, whether each met its target, a last line naming
 * every target missed and every measure that failed, and bench/results.json.
 */
import { writeFileSync } from "node:fs";
import type { Measure } from "./support.ts";

export type Section = "local" | "aws-model" | "registration" | "history" | "process" | "fleet";

export interface Row extends Measure {
  section: Section;
}

export const format = (value: number) =>
  value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
export const sizeName = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
const units = (n: number | undefined) => (n === undefined ? "" : Number.isInteger(n) ? String(n) : n.toFixed(1));

const met = (row: Row): boolean | undefined => {
  if (!row.target) return undefined;
  if (row.target.ratio !== undefined) return row.baseline ? row.value / row.baseline <= row.target.ratio : undefined;
  if (row.target.max !== undefined) return row.value <= row.target.max;
  return undefined;
};
const targetText = (row: Row) =>
  row.target?.ratio !== undefined
    ? `≤ ${row.target.ratio}×`
    : row.target?.max !== undefined
      ? `≤ ${format(row.target.max)} ${row.unit}`
      : "";

/** Prints the header lines and the table of `rows` on stdout. */
export function printTable(header: readonly string[], rows: readonly Row[]): void {
  console.log(`\n${header.join("\n")}\n`);
  console.log("| section | measure | result | baseline | ratio | WRU | RRU | target | met | note |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const row of rows) {
    const baseline = row.baseline ? `${format(row.baseline)} ${row.unit}` : "";
    const ratio = row.baseline ? `${(row.value / row.baseline).toFixed(2)}×` : "";
    const ok = met(row);
    const note = [row.baselineName ? `baseline: ${row.baselineName}` : "", row.note ?? ""]
      .filter(Boolean)
      .join("; ")
      .replace(/\s+/g, " ");
    console.log(
      `| ${row.section} | ${row.name} | ${format(row.value)} ${row.unit} | ${baseline} | ${ratio} | ${units(row.writeUnits)} | ${units(row.readUnits)} | ${targetText(row)} | ${ok === undefined ? "" : ok ? "yes" : "NO"} | ${note} |`,
    );
  }
}

/** One line that says whether every target was met, and names each one missed and each measure that failed. */
export function summaryLine(rows: readonly Row[]): string {
  const judged = rows.filter((row) => met(row) !== undefined);
  const missed = judged.filter((row) => met(row) === false && !Number.isNaN(row.value));
  const failed = rows.filter((row) => Number.isNaN(row.value));
  return missed.length === 0 && failed.length === 0
    ? `summary: all ${judged.length} targets met`
    : [
        `summary: TARGETS MISSED: ${missed.length} of ${judged.length}`,
        ...missed.map((row) => `${row.name}: ${format(row.value)} ${row.unit}, target ${targetText(row)}`),
        ...failed.map((row) => `FAILED: ${row.name}`),
      ].join("; ");
}

/** bench/results.json: what the run was (`about`), its summary line, and every row with its ratio and verdict. */
export function writeResults(path: string, about: Record<string, unknown>, summary: string, rows: readonly Row[]) {
  const shown = rows.map((row) => ({
    ...row,
    ratio: row.baseline ? row.value / row.baseline : undefined,
    met: met(row),
  }));
  writeFileSync(path, `${JSON.stringify({ ...about, summary, rows: shown }, null, 2)}\n`);
}
