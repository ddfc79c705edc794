import { decodeCursor } from "./cursor.ts";
import { ServiceError, type ErrorCode } from "./errors.ts";
import {
  DEFAULT_LIMIT,
  MAX_IMAGES_PER_REQUEST,
  MAX_LIMIT,
  SET_TYPES,
  type Cursor,
  type ImageInput,
  type ListQuery,
  type RegisterRequest,
  type SetType,
  type SplitRequest,
} from "./model.ts";

const ID = /^[0-9A-Za-z_-]{1,64}$/;
const INTEGER = /^-?\d+$/;
const MAX_SEED_CHARS = 128;
const MAX_NAME_CHARS = 255;

type Fields = Record<string, unknown>;

function asObject(value: unknown): Fields | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;
}

/** Reads an own property only: nothing inherited, nothing smuggled in under a `__proto__` key. */
function own(fields: Fields, key: string): unknown {
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}

/** Characters as the user counts them (code points), not UTF-16 units. */
const charCount = (text: string): number => [...text].length;

/** A string of the id charset, or a safe integer whose digits are one; undefined otherwise. */
function id(value: unknown): string | undefined {
  const text =
    typeof value === "string" ? value : typeof value === "number" && Number.isSafeInteger(value) ? String(value) : undefined;
  return text !== undefined && ID.test(text) ? text : undefined;
}

/** A safe integer given as a JSON number or as an integer string (form fields arrive as strings). */
function integer(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && INTEGER.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n + 0 : undefined; // `+ 0` turns -0 into 0
}

/** An integer field that must be at least `min`; any failure is `code`. */
function integerField(value: unknown, code: ErrorCode, min: number): number {
  const n = integer(value);
  if (n === undefined || n < min) throw new ServiceError(code);
  return n;
}

function requireObject(body: unknown): Fields {
  const fields = asObject(body);
  if (fields === undefined) throw new ServiceError(1001);
  return fields;
}

/** Strips one pair of surrounding double quotes, as the seed's GET example sends task_id. */
function unquote(value: unknown): unknown {
  return typeof value === "string" && value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

/**
 * A task_id: a string of 1–64 `0-9A-Za-z_-`, or a JSON number that is a safe integer
 * (returned as its decimal string). Anything else throws 1002.
 */
export function parseTaskId(value: unknown): string {
  const taskId = id(value);
  if (taskId === undefined) throw new ServiceError(1002);
  return taskId;
}

function parseSeed(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value === "string" && value.length > 0 && value.isWellFormed() && charCount(value) <= MAX_SEED_CHARS) {
    return value;
  }
  throw new ServiceError(1016);
}

/**
 * Validates a PUT /training/tasks/sets body (already JSON-parsed). Reports the first failing
 * rule: body 1001, task_id 1002, training_count 1009, verifying_count 1005, testing_count 1006,
 * seed 1016.
 */
export function parseSplitRequest(body: unknown): SplitRequest {
  const fields = requireObject(body);
  const taskId = parseTaskId(own(fields, "task_id"));
  const training = integerField(own(fields, "training_count"), 1009, 1);
  const verifying = integerField(own(fields, "verifying_count"), 1005, 0);
  const testing = integerField(own(fields, "testing_count"), 1006, 0);
  const seed = parseSeed(own(fields, "seed"));
  // Indexed by set type: 0 training, 1 testing, 2 verifying.
  return { taskId, counts: { 0: training, 1: testing, 2: verifying }, seed };
}

function parseSetType(value: unknown): SetType {
  const setType = SET_TYPES.find((t) => String(t) === value);
  if (setType === undefined) throw new ServiceError(1004);
  return setType;
}

function parseLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) throw new ServiceError(1012);
  return n;
}

function parseCursor(value: unknown, taskId: string, setType: SetType): Cursor | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new ServiceError(1012);
  const cursor = decodeCursor(value);
  // A cursor is only good for the listing it came from.
  if (cursor.taskId !== taskId || cursor.setType !== setType) throw new ServiceError(1012);
  return cursor;
}

/**
 * Validates the query string of GET /training/tasks/sets (already URL-decoded). Reports the
 * first failing rule: task_id 1002 (one pair of surrounding double quotes is stripped),
 * set_type_id 1004, limit 1012 (1–10000, default 5000), cursor 1012 (must come from this
 * task and set).
 */
export function parseListQuery(query: Record<string, string | undefined> | null | undefined): ListQuery {
  const params: Fields = query ?? {};
  const taskId = parseTaskId(unquote(own(params, "task_id")));
  const setType = parseSetType(unquote(own(params, "set_type_id")));
  const limit = parseLimit(own(params, "limit"));
  const cursor = parseCursor(own(params, "cursor"), taskId, setType);
  return { taskId, setType, limit, cursor };
}

const invalidImages = (field: string) => new ServiceError(1011, { field });

function parseImage(entry: unknown, at: string, seen: Set<string>): ImageInput {
  const image = asObject(entry);
  if (image === undefined) throw invalidImages(at);

  const imgId = id(own(image, "img_id"));
  if (imgId === undefined || seen.has(imgId)) throw invalidImages(`${at}.img_id`);
  seen.add(imgId);

  const imgName = own(image, "img_name");
  // A lone surrogate is not text: storage would turn it into U+FFFD and return another name.
  if (
    typeof imgName !== "string" ||
    !imgName.isWellFormed() ||
    /^\s*$/u.test(imgName) ||
    charCount(imgName) > MAX_NAME_CHARS
  ) {
    throw invalidImages(`${at}.img_name`);
  }

  const rawState = own(image, "state");
  const state = rawState === undefined ? 0 : integer(rawState);
  if (state === undefined || state < 0) throw invalidImages(`${at}.state`);

  return { imgId, imgName, state };
}

/**
 * Validates a POST /training/tasks/images body (already JSON-parsed): body 1001, task_id 1002,
 * then `images` (1–1000 entries of `{ img_id, img_name, state? }`, img_ids unique) 1011 naming
 * the first failing field, e.g. `images[3].img_name`.
 */
export function parseRegisterRequest(body: unknown): RegisterRequest {
  const fields = requireObject(body);
  const taskId = parseTaskId(own(fields, "task_id"));
  const list = own(fields, "images");
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_IMAGES_PER_REQUEST) {
    throw invalidImages("images");
  }
  const seen = new Set<string>();
  const images: ImageInput[] = [];
  // An index loop, not map(): a hole in a sparse array must fail like any non-object entry.
  for (let i = 0; i < list.length; i++) images.push(parseImage(list[i], `images[${i}]`, seen));
  return { taskId, images };
}
