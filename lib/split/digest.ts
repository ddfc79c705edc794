import { createHash } from "node:crypto";
import { compareIds } from "./plan/names.ts";
import { isCanonicallySorted } from "./shuffle.ts";

const DIGEST_SLICE = 10_000;

/**
 * A digest of the img_ids a split planned over, whatever order they were read in: a rebuilt answer
 * is the first answer only when the images are the same (equal counts are not enough: a late
 * registration and a deletion keep the count and change the permutation).
 */
export function plannedDigest(imgIds: readonly string[]): string {
  const ids = isCanonicallySorted(imgIds) ? imgIds : [...imgIds].sort(compareIds);
  const hash = createHash("sha256");
  // In slices: one string of a million ids would be ~20 MB more at a split's peak memory.
  for (let i = 0; i < ids.length; i += DIGEST_SLICE) hash.update(`${ids.slice(i, i + DIGEST_SLICE).join("\n")}\n`);
  return hash.digest("base64url").slice(0, 22);
}
