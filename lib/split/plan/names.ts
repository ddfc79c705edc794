/** How the planner orders ids, labels and groups, and names them in messages. */

/** Canonical order: UTF-16 code units, as `a < b` compares strings (never the locale). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The bins' names in messages, in bin order. */
export const SET_NAMES = ["训练集", "验证集", "测试集"] as const;

/** Labels named in an error message at most; the rest are counted. */
const LISTED_LABELS = 20;

/** Labels (or groups) for an error message: the first LISTED_LABELS, then how many in all. */
export function listLabels(labels: readonly string[]): string {
  return labels.length <= LISTED_LABELS
    ? labels.join("、")
    : `${labels.slice(0, LISTED_LABELS).join("、")} 等 ${labels.length} 个`;
}
