import {
  type LabelCount,
  type RareLabel,
  type RareLabelPolicy,
  type SetSizes,
  type SetType,
  TESTING,
  TRAINING,
  VERIFYING,
} from "../../model.ts";
import { compareIds } from "./names.ts";
import { ALGORITHM_VERSION, type PlanImage, type PlanSets, type SplitPlan } from "./types.ts";

/** The account of a finished plan: label histogram, rare labels, moves, leaked groups. */
export function report(
  sets: PlanSets,
  images: readonly PlanImage[],
  requested: SetSizes,
  rareLabelPolicy: RareLabelPolicy,
  rare: readonly string[],
  heldBack: number,
): SplitPlan {
  const byLabel = labelTally(images, sets.setOf);
  const labelCounts = [...byLabel.values()].sort((a, b) =>
    a.label === null ? 1 : b.label === null ? -1 : compareIds(a.label, b.label),
  );
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

/** Images per label (null: unlabelled) per set and in no set; empty when no image has a label. */
function labelTally(images: readonly PlanImage[], setOf: Int8Array): Map<string | null, LabelCount> {
  const byLabel = new Map<string | null, LabelCount>();
  if (!images.some((image) => image.label !== undefined)) return byLabel;
  for (let i = 0; i < images.length; i++) {
    const key = images[i]!.label ?? null;
    let entry = byLabel.get(key);
    if (entry === undefined) {
      entry = { label: key, sizes: { [TRAINING]: 0, [TESTING]: 0, [VERIFYING]: 0 }, unassigned: 0 };
      byLabel.set(key, entry);
    }
    const setType = setOf[i]!;
    if (setType === -1) entry.unassigned++;
    else entry.sizes[setType as SetType]++;
  }
  return byLabel;
}

/** Moves against `current`, images newly placed, and groups found in more than one set (code-unit order). */
function changes(images: readonly PlanImage[], setOf: Int8Array) {
  const firstSet = new Map<string, number>();
  const leaked = new Set<string>();
  let moved = 0;
  let newlyAssigned = 0;
  for (let i = 0; i < images.length; i++) {
    const { group, current } = images[i]!;
    const setType = setOf[i]!;
    if (current === undefined) {
      if (setType !== -1) newlyAssigned++;
    } else if (setType !== current) {
      moved++;
    }
    if (group !== undefined && setType !== -1) {
      const seen = firstSet.get(group);
      if (seen === undefined) firstSet.set(group, setType);
      else if (seen !== setType) leaked.add(group);
    }
  }
  return { moved, newlyAssigned, leakedGroups: [...leaked].sort(compareIds) };
}
