import { ServiceError } from "../errors.ts";

/** The PUT's optional split fields, in the order they are checked. */
export const OPTION_FIELDS = [
  "stratify_by",
  "group_by",
  "rare_labels",
  "mode",
  "lock_testing",
  "dry_run",
  "algorithm",
] as const;

/** The body fields each request may carry; anything else is refused (1023) unless STRICT_FIELDS=false. */
export const SPLIT_FIELDS = [
  "task_id",
  "training_count",
  "verifying_count",
  "testing_count",
  "ratios",
  "seed",
  ...OPTION_FIELDS,
] as const;
export const REGISTER_FIELDS = ["task_id", "images"] as const;
export const DELETE_FIELDS = ["task_id", "img_ids"] as const;
export const IMAGE_FIELDS = ["img_id", "img_name", "state", "label", "group"] as const;
export const RATIO_FIELDS = ["training", "verifying", "testing"] as const;
/** PUT /training/tasks/schedule: the schedule's settings, and the split its runs make. */
export const SCHEDULE_FIELDS = ["task_id", "expression", "timezone", "split", "enabled", "window_minutes"] as const;
/** A schedule's `split`: the PUT /training/tasks/sets body without task_id (the schedule's) and seed (drawn per run). */
export const SCHEDULE_SPLIT_FIELDS = SPLIT_FIELDS.filter(
  (field): field is Exclude<(typeof SPLIT_FIELDS)[number], "task_id" | "seed"> =>
    field !== "task_id" && field !== "seed",
);
/** The query parameters each GET takes; anything else is refused (1023) like an unknown body field. */
export const SETS_QUERY_FIELDS = ["task_id", "set_type_id", "limit", "cursor"] as const;
export const IMAGES_QUERY_FIELDS = ["task_id", "img_id", "limit", "cursor"] as const;
/** GET and DELETE /training/tasks/schedule. */
export const SCHEDULE_QUERY_FIELDS = ["task_id"] as const;

/** What to do with a field a request does not have: refuse it (the default), or report it and go on. */
export interface FieldPolicy {
  strict: boolean;
  /** Called with the unknown fields' paths when not strict (the handlers log them). */
  onUnknown?: (paths: string[]) => void;
}

export const STRICT: FieldPolicy = { strict: true };

/** A value as a detail message shows it: JSON, cut short. */
export function shown(value: unknown): string {
  const text = value === undefined ? "nothing" : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const normalised = (name: string) => name.toLowerCase().replace(/[_\-\s]/g, "");

/** Edit distance (insert, delete, substitute), for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/**
 * The known field `name` most likely meant: the same letters ignoring case and `_`, the one known
 * field ending in them (`name` → `img_name`), or one at most 2 edits away.
 */
function nearest(name: string, known: readonly string[]): string | undefined {
  const exact = known.find((field) => normalised(field) === normalised(name));
  if (exact) return exact;
  const endingIn = known.filter(
    (field) => normalised(name).length >= 2 && normalised(field).endsWith(normalised(name)),
  );
  if (endingIn.length === 1) return endingIn[0];
  let best: { field: string; cost: number } | undefined;
  for (const field of known) {
    const cost = distance(normalised(name), normalised(field));
    if (cost <= 2 && (!best || cost < best.cost)) best = { field, cost };
  }
  return best?.field;
}

/**
 * Checks that `fields` has only `known` keys (own keys; `prefix` names where they are, e.g.
 * `images[3].`). The first unknown one is 1023 naming it and the nearest known field; under a
 * lenient policy they are all reported to `onUnknown` instead.
 */
export function checkFields(
  fields: Record<string, unknown>,
  known: readonly string[],
  policy: FieldPolicy,
  prefix = "",
  noun = "field",
): void {
  const unknown = Object.keys(fields).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  if (!policy.strict) {
    policy.onUnknown?.(unknown.map((key) => `${prefix}${key}`));
    return;
  }
  // An empty key would read as no name at all.
  const field = `${prefix}${unknown[0] === "" ? '""' : unknown[0]}`;
  const guess = nearest(unknown[0] as string, known);
  throw new ServiceError(
    1023,
    { field },
    {
      detail: `unknown ${noun} ${field}${guess ? ` (did you mean ${prefix}${guess}?)` : ""}; known ${noun}s: ${known.join(", ")}`,
    },
  );
}
