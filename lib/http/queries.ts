import { ServiceError } from "../errors.ts";
import {
  DEFAULT_LIMIT,
  type ImageQuery,
  MAX_LIMIT,
  SET_TYPES,
  type SetCursor,
  type SetQuery,
  type SetType,
} from "../model.ts";
import { decodeCursor, decodeImageCursor } from "./cursor.ts";
import { checkFields, type FieldPolicy, IMAGES_QUERY_FIELDS, SETS_QUERY_FIELDS, STRICT, shown } from "./fields.ts";
import { type Fields, id, idProblem, invalidImages, own, parseTaskId, unquote } from "./values.ts";

/** The GETs' query strings: a set's page or the task's summary, and the images' lookup or listing. */

function parseSetType(value: unknown): SetType {
  const setType = SET_TYPES.find((t) => String(t) === value);
  if (setType === undefined) {
    throw new ServiceError(
      1004,
      {},
      { detail: `set_type_id must be 0 (training), 1 (testing) or 2 (verifying), got ${shown(value)}` },
    );
  }
  return setType;
}

function parseLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) {
    throw new ServiceError(
      1012,
      {},
      { detail: `limit must be an integer from 1 to ${MAX_LIMIT}, got ${shown(value)}` },
    );
  }
  return n;
}

function parseCursor(value: unknown, taskId: string, setType: SetType): SetCursor | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new ServiceError(1012, {}, { detail: "cursor must be a string" });
  const cursor = decodeCursor(value);
  // A cursor is only good for the listing it came from.
  if (cursor.taskId !== taskId || cursor.setType !== setType) {
    throw new ServiceError(1012, {}, { detail: `this cursor pages set ${cursor.setType} of task ${cursor.taskId}` });
  }
  return cursor;
}

/**
 * GET /training/tasks/sets: without `set_type_id` it asks for the task's split summary
 * (`{ taskId }`), with it for one page of one set (as parseSetPageQuery).
 */
export function parseSetsQuery(
  query: Record<string, string | undefined> | null | undefined,
  policy: FieldPolicy = STRICT,
): SetQuery | { taskId: string; setType?: undefined } {
  const params: Fields = query ?? {};
  checkFields(params, SETS_QUERY_FIELDS, policy, "", "query parameter");
  if (own(params, "set_type_id") === undefined) return { taskId: parseTaskId(unquote(own(params, "task_id"))) };
  return parseSetPageQuery(query);
}

/**
 * Validates the query string of GET /training/tasks/sets (already URL-decoded). Reports the
 * first failing rule: task_id 1002 (one pair of surrounding double quotes is stripped),
 * set_type_id 1004, limit 1012 (1–10000, default 5000), cursor 1012 (must come from this
 * task and set).
 */
export function parseSetPageQuery(query: Record<string, string | undefined> | null | undefined): SetQuery {
  const params: Fields = query ?? {};
  const taskId = parseTaskId(unquote(own(params, "task_id")));
  const setType = parseSetType(unquote(own(params, "set_type_id")));
  const limit = parseLimit(own(params, "limit"));
  const cursor = parseCursor(own(params, "cursor"), taskId, setType);
  return { taskId, setType, limit, cursor };
}

/**
 * Validates the query string of GET /training/tasks/images (already URL-decoded): task_id 1002
 * (one pair of surrounding double quotes stripped), then img_id when present (1011 naming
 * `img_id`), then limit and cursor 1012 (a cursor must come from this task's image listing).
 * Another parameter is 1023, first, like an unknown body field.
 */
export function parseImagesQuery(
  query: Record<string, string | undefined> | null | undefined,
  policy: FieldPolicy = STRICT,
): ImageQuery {
  const params: Fields = query ?? {};
  checkFields(params, IMAGES_QUERY_FIELDS, policy, "", "query parameter");
  const taskId = parseTaskId(unquote(own(params, "task_id")));
  const rawImgId = own(params, "img_id");
  let imgId: string | undefined;
  if (rawImgId !== undefined) {
    imgId = id(unquote(rawImgId));
    if (imgId === undefined) {
      throw invalidImages("img_id", idProblem("img_id", rawImgId));
    }
  }
  const limit = parseLimit(own(params, "limit"));
  const rawCursor = own(params, "cursor");
  let cursor: ImageQuery["cursor"];
  if (rawCursor !== undefined) {
    if (typeof rawCursor !== "string") throw new ServiceError(1012, {}, { detail: "cursor must be a string" });
    cursor = decodeImageCursor(rawCursor);
    if (cursor.taskId !== taskId) {
      throw new ServiceError(1012, {}, { detail: `this cursor pages the images of task ${cursor.taskId}` });
    }
  }
  return { taskId, imgId, limit, cursor };
}
