import { ServiceError } from "../errors.ts";
import {
  DEFAULT_SPLIT_OPTIONS,
  type DeleteRequest,
  type ImageInput,
  MAX_IMAGES_PER_REQUEST,
  RARE_LABEL_POLICIES,
  type RegisterRequest,
  type SetRatios,
  type SetSizes,
  SPLIT_MODES,
  type SplitOptions,
  type SplitSizes,
  type SplitSpec,
  TESTING,
  TRAINING,
  VERIFYING,
} from "../model.ts";
import { ALGORITHM_VERSIONS } from "../split/plan/index.ts";
import {
  checkFields,
  DELETE_FIELDS,
  type FieldPolicy,
  IMAGE_FIELDS,
  OPTION_FIELDS,
  RATIO_FIELDS,
  REGISTER_FIELDS,
  SPLIT_FIELDS,
  STRICT,
  shown,
} from "./fields.ts";

import {
  asObject,
  charCount,
  type Fields,
  id,
  idProblem,
  integer,
  integerField,
  invalidImages,
  kindOf,
  own,
  parseTaskId,
  requireObject,
} from "./values.ts";

/** The bodies: a split's (PUT), a registration's (POST), a deletion's (DELETE). */

const MAX_SEED_CHARS = 128;
const MAX_NAME_CHARS = 255;
const MAX_TAG_CHARS = 128;
/** Slack for a ratio sum that is 1 in decimal but not in binary floating point (0.7 + 0.2 + 0.1 > 1 by 1e-16). */
const RATIO_SUM_TOLERANCE = 1e-9;

function parseSeed(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value === "string" && value.length > 0 && value.isWellFormed() && charCount(value) <= MAX_SEED_CHARS) {
    return value;
  }
  throw new ServiceError(
    1016,
    {},
    { detail: `seed must be a string of 1–128 characters or a safe integer, got ${shown(value)}` },
  );
}

/** The legacy API's three counts, in its order: training_count 1009, verifying_count 1005, testing_count 1006. */
function parseCounts(fields: Fields): SetSizes {
  const training = integerField(own(fields, "training_count"), 1009, "training_count", 1);
  const verifying = integerField(own(fields, "verifying_count"), 1005, "verifying_count", 0);
  const testing = integerField(own(fields, "testing_count"), 1006, "testing_count", 0);
  // Indexed by set type: 0 training, 1 testing, 2 verifying.
  return { 0: training, 1: testing, 2: verifying };
}

const COUNT_FIELDS = ["training_count", "verifying_count", "testing_count"] as const;
/** The ratio keys in the legacy API's set order, with the set type each fills. */
const RATIO_KEYS = [
  ["training", TRAINING],
  ["verifying", VERIFYING],
  ["testing", TESTING],
] as const;

const invalidRatios = (reason: string, detail: string) => new ServiceError(1018, { reason }, { detail });

/** `ratios`: an object of three finite numbers in [0, 1] (training > 0) whose sum is at most 1. */
function parseRatios(value: unknown): SetRatios {
  const object = asObject(value);
  if (object === undefined) {
    throw invalidRatios(
      "必须是含 training、verifying、testing 三个比例的对象",
      `ratios must be an object {training, verifying, testing}, got ${shown(value)}`,
    );
  }
  const ratios: SetRatios = { 0: 0, 1: 0, 2: 0 };
  for (const [key, setType] of RATIO_KEYS) {
    const ratio = own(object, key);
    if (typeof ratio !== "number" || !(ratio <= 1) || !(setType === TRAINING ? ratio > 0 : ratio >= 0)) {
      throw invalidRatios(
        `ratios.${key} ${setType === TRAINING ? "必须是大于 0、不大于 1 的数" : "必须是 0 到 1 之间的数"}`,
        `ratios.${key} must be a number ${setType === TRAINING ? "in (0, 1]" : "in [0, 1]"}, got ${shown(ratio)}`,
      );
    }
    ratios[setType] = ratio + 0; // `+ 0` turns -0 into 0
  }
  if (ratios[TRAINING] + ratios[VERIFYING] + ratios[TESTING] > 1 + RATIO_SUM_TOLERANCE) {
    const sum = ratios[TRAINING] + ratios[VERIFYING] + ratios[TESTING];
    throw invalidRatios("三个比例之和不能大于 1", `ratios must sum to at most 1, got ${sum}`);
  }
  return ratios;
}

const invalidOption = (field: string, rule: string, detail: string) =>
  new ServiceError(1019, { field, rule }, { detail });

/** One of `allowed`, or undefined when absent. */
function enumOption<T extends string>(fields: Fields, field: string, allowed: readonly T[]): T | undefined {
  const value = own(fields, field);
  if (value === undefined) return undefined;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalidOption(
    field,
    `只能是 ${allowed.map((a) => `"${a}"`).join("、")}`,
    `${field} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${shown(value)}`,
  );
}

function booleanOption(fields: Fields, field: string): boolean {
  const value = own(fields, field);
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  throw invalidOption(field, "必须是 true 或 false", `${field} must be true or false, got ${shown(value)}`);
}

/** The optional split fields in body order; undefined when the body carries none of them. */
export function parseSplitOptions(fields: Fields): SplitOptions | undefined {
  if (OPTION_FIELDS.every((field) => own(fields, field) === undefined)) return undefined;
  const stratifyBy = enumOption(fields, "stratify_by", ["label"] as const);
  const groupBy = enumOption(fields, "group_by", ["group"] as const);
  const rareLabels = enumOption(fields, "rare_labels", RARE_LABEL_POLICIES) ?? DEFAULT_SPLIT_OPTIONS.rareLabels;
  const mode = enumOption(fields, "mode", SPLIT_MODES) ?? DEFAULT_SPLIT_OPTIONS.mode;
  const lockTesting = booleanOption(fields, "lock_testing");
  const dryRun = booleanOption(fields, "dry_run");
  const algorithm = enumOption(fields, "algorithm", ALGORITHM_VERSIONS) ?? DEFAULT_SPLIT_OPTIONS.algorithm;
  // keep already keeps every assigned image; lock_testing is defined for a fresh re-split.
  if (lockTesting && mode === "keep") {
    throw invalidOption("lock_testing", '不能与 mode "keep" 同时使用', 'lock_testing cannot be used with mode "keep"');
  }
  return { stratifyBy, groupBy, rareLabels, mode, lockTesting, dryRun, algorithm };
}

/**
 * A split body's sizes: with `ratios`, any of the three *_count fields present 1017, else the
 * ratios themselves 1018; without `ratios`, the legacy counts 1009, 1005, 1006.
 */
export function parseSplitSizes(fields: Fields): SplitSizes {
  const rawRatios = own(fields, "ratios");
  if (rawRatios === undefined) return { counts: parseCounts(fields) };
  const count = COUNT_FIELDS.find((field) => own(fields, field) !== undefined);
  if (count) throw new ServiceError(1017, {}, { detail: `ratios cannot be combined with ${count}` });
  return { ratios: parseRatios(rawRatios) };
}

/**
 * Validates a PUT /training/tasks/sets body with the optional fields beyond the legacy API's. Reports
 * the first failing rule: body 1001, task_id 1002; then the sizes — with `ratios`, any of the
 * three *_count fields present 1017, else the ratios themselves 1018; without `ratios`, the
 * legacy counts 1009, 1005, 1006 —; seed 1016; then stratify_by, group_by, rare_labels, mode,
 * lock_testing, dry_run, algorithm 1019 (naming the field), and lock_testing with mode "keep" 1019.
 * A body with none of the new fields (the legacy request) gives no `options`.
 */
export function parseSplitSpec(body: unknown, policy: FieldPolicy = STRICT): SplitSpec {
  const fields = requireObject(body);
  checkFields(fields, SPLIT_FIELDS, policy);
  const ratioFields = asObject(own(fields, "ratios"));
  if (ratioFields) checkFields(ratioFields, RATIO_FIELDS, policy, "ratios.");
  const taskId = parseTaskId(own(fields, "task_id"));
  const sizes = parseSplitSizes(fields);
  const seed = parseSeed(own(fields, "seed"));
  const options = parseSplitOptions(fields);
  return { taskId, ...sizes, seed, ...(options === undefined ? {} : { options }) };
}

function parseImage(entry: unknown, at: string, seen: Map<string, number>, index: number): ImageInput {
  const image = asObject(entry);
  if (image === undefined) throw invalidImages(at, `${at} must be an object, got ${kindOf(entry)}`);

  const rawId = own(image, "img_id");
  const imgId = id(rawId);
  if (imgId === undefined) {
    throw invalidImages(`${at}.img_id`, idProblem(`${at}.img_id`, rawId));
  }
  const earlier = seen.get(imgId);
  if (earlier !== undefined) throw invalidImages(`${at}.img_id`, `${at}.img_id duplicates images[${earlier}]`);
  seen.set(imgId, index);

  const imgName = own(image, "img_name");
  // A lone surrogate is not text: storage would turn it into U+FFFD and return another name.
  if (
    typeof imgName !== "string" ||
    !imgName.isWellFormed() ||
    /^\s*$/u.test(imgName) ||
    charCount(imgName) > MAX_NAME_CHARS
  ) {
    throw invalidImages(
      `${at}.img_name`,
      `${at}.img_name must be 1–255 characters of well-formed text, not only spaces, got ${shown(imgName)}`,
    );
  }

  const rawState = own(image, "state");
  const state = rawState === undefined ? undefined : integer(rawState);
  if (rawState !== undefined && (state === undefined || state < 0)) {
    throw invalidImages(`${at}.state`, `${at}.state must be an integer ≥ 0, got ${shown(rawState)}`);
  }

  const label = parseTag(own(image, "label"), `${at}.label`);
  const group = parseTag(own(image, "group"), `${at}.group`);
  return {
    imgId,
    imgName,
    ...(state === undefined ? {} : { state }),
    ...(label === undefined ? {} : { label }),
    ...(group === undefined ? {} : { group }),
  };
}

/**
 * An optional label or group: absent, a string of 1–128 characters (well-formed, not only
 * whitespace), or a safe integer (class indexes and patient numbers often arrive as numbers),
 * kept as its decimal string.
 */
function parseTag(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value + 0);
  if (typeof value === "string" && value.isWellFormed() && !/^\s*$/u.test(value) && charCount(value) <= MAX_TAG_CHARS) {
    return value;
  }
  throw invalidImages(
    field,
    `${field} must be 1–128 characters of well-formed text, not only spaces, or a safe integer, got ${shown(value)}`,
  );
}

/** A request's list of 1–1000 entries (`images`, `img_ids`), or 1011 naming `field`. */
function requireList(list: unknown, field: string, of: string): asserts list is unknown[] {
  if (Array.isArray(list) && list.length >= 1 && list.length <= MAX_IMAGES_PER_REQUEST) return;
  const detail = !Array.isArray(list)
    ? `${field} must be a list of ${of}, got ${shown(list)}`
    : list.length < 1
      ? `${field}: at least 1 per request, got 0`
      : `${field}: at most ${MAX_IMAGES_PER_REQUEST} per request, got ${list.length}`;
  throw invalidImages(field, detail);
}

/**
 * Validates a POST /training/tasks/images body (already JSON-parsed): body 1001, task_id 1002,
 * then `images` (1–1000 entries of `{ img_id, img_name, state?, label?, group? }`, img_ids
 * unique) 1011 naming the first failing field, e.g. `images[3].img_name` or `images[3].label`.
 */
export function parseRegisterRequest(body: unknown, policy: FieldPolicy = STRICT): RegisterRequest {
  const fields = requireObject(body);
  checkFields(fields, REGISTER_FIELDS, policy);
  const list = own(fields, "images");
  if (Array.isArray(list)) {
    list.forEach((entry, i) => {
      const image = asObject(entry);
      if (image) checkFields(image, IMAGE_FIELDS, policy, `images[${i}].`);
    });
  }
  const taskId = parseTaskId(own(fields, "task_id"));
  requireList(list, "images", "image objects");
  const seen = new Map<string, number>();
  const images: ImageInput[] = [];
  // An index loop, not map(): a hole in a sparse array must fail like any non-object entry.
  for (let i = 0; i < list.length; i++) images.push(parseImage(list[i], `images[${i}]`, seen, i));
  return { taskId, images };
}

/**
 * Validates a DELETE /training/tasks/images body: body 1001, unknown fields 1023, task_id 1002,
 * then `img_ids` (1–1000 unique ids) 1011 naming the first failing field, e.g. `img_ids[3]`.
 */
export function parseDeleteRequest(body: unknown, policy: FieldPolicy = STRICT): DeleteRequest {
  const fields = requireObject(body);
  checkFields(fields, DELETE_FIELDS, policy);
  const taskId = parseTaskId(own(fields, "task_id"));
  const list = own(fields, "img_ids");
  requireList(list, "img_ids", "image ids");
  const seen = new Map<string, number>();
  const imgIds: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const imgId = id(list[i]);
    if (imgId === undefined) {
      throw invalidImages(`img_ids[${i}]`, idProblem(`img_ids[${i}]`, list[i]));
    }
    const earlier = seen.get(imgId);
    if (earlier !== undefined) throw invalidImages(`img_ids[${i}]`, `img_ids[${i}] duplicates img_ids[${earlier}]`);
    seen.set(imgId, i);
    imgIds.push(imgId);
  }
  return { taskId, imgIds };
}
