import {
  type LabelCount,
  type RareLabel,
  type RareLabelPolicy,
  type SetSizes,
  TESTING,
  TRAINING,
  VERIFYING,
} from "../../model.ts";
import { compareIds } from "./names.ts";
import { ALGORITHM_VERSION, type PlanColumns, type PlanSets, type SplitPlan } from "./types.ts";

/** The account of a finished plan: label histogram, rare labels, moves, leaked groups. */
export function report(
  sets: PlanSets,
  images: PlanColumns,
  requested: SetSizes,
  rareLabelPolicy: RareLabelPolicy,
  rare: readonly string[],
  heldBack: number,
): SplitPlan {
  const labelCounts = labelTally(images, sets.setOf);
  const byLabel = new Map(labelCounts.map((entry) => [entry.label, entry]));
  const rareLabels = rare.map((label): RareLabel => ({ ...(byLabel.get(label) as LabelCount), label }));
  return {
    ...sets,
    algorithm: ALGORITHM_VERSION,
    requested,
    labelCounts,
    rareLabelPolicy,
    rareLabels,
    ...changes(images, sets.setOf),
    heldBack,
  };
}

/** Images per label (null: unlabelled, last) per set and in no set, labels in code-unit order; empty when no image has a label. */
function labelTally({ labelOf, labels }: PlanColumns, setOf: Int8Array): LabelCount[] {
  if (!labelOf.some((label) => label !== -1)) return [];
  // Per label number (the last one: unlabelled), its images in each set type, then in none.
  const tally = new Int32Array((labels.length + 1) * 4);
  for (let i = 0; i < labelOf.length; i++) {
    const label = labelOf[i] === -1 ? labels.length : labelOf[i]!;
    const setType = setOf[i]!;
    tally[label * 4 + (setType === -1 ? 3 : setType)]!++;
  }
  const entries: LabelCount[] = [];
  for (let k = 0; k <= labels.length; k++) {
    const at = k * 4;
    if (tally[at]! + tally[at + 1]! + tally[at + 2]! + tally[at + 3]! === 0) continue;
    entries.push({
      label: k === labels.length ? null : labels[k]!,
      sizes: {
        [TRAINING]: tally[at + TRAINING]!,
        [TESTING]: tally[at + TESTING]!,
        [VERIFYING]: tally[at + VERIFYING]!,
      },
      unassigned: tally[at + 3]!,
    });
  }
  return entries.sort((a, b) => (a.label === null ? 1 : b.label === null ? -1 : compareIds(a.label, b.label)));
}

/** Moves against `current`, images newly placed, and groups found in more than one set (code-unit order). */
function changes({ groupOf, groups, current }: PlanColumns, setOf: Int8Array) {
  const firstSet = new Int8Array(groups.length).fill(-1);
  const isLeaked = new Uint8Array(groups.length);
  const leaked: string[] = [];
  let moved = 0;
  let newlyAssigned = 0;
  for (let i = 0; i < setOf.length; i++) {
    const setType = setOf[i]!;
    const was = current ? current[i]! : -1;
    if (was === -1) {
      if (setType !== -1) newlyAssigned++;
    } else if (setType !== was) {
      moved++;
    }
    const group = groupOf[i]!;
    if (group !== -1 && setType !== -1) {
      const seen = firstSet[group]!;
      if (seen === -1) firstSet[group] = setType;
      else if (seen !== setType && isLeaked[group] === 0) {
        isLeaked[group] = 1;
        leaked.push(groups[group]!);
      }
    }
  }
  return { moved, newlyAssigned, leakedGroups: leaked.sort(compareIds) };
}
