import { ServiceError } from "../errors.ts";
import { type ImageCursor, SET_TYPES, type SetCursor } from "../model.ts";
import { shownTaskId } from "../store/task-key.ts";

const ID = /^[0-9A-Za-z_-]{1,64}$/;
const TOKEN = /^[0-9a-f]{1,32}$/;

/** Cursors are opaque to callers: base64url of a short JSON array. */
const encodeFields = (fields: readonly unknown[]): string =>
  Buffer.from(JSON.stringify(fields), "utf8").toString("base64url");

/** The JSON array of `length` fields a cursor carries; anything forged or truncated throws `invalid`. */
function decodeFields(text: string, length: number, invalid: ServiceError): unknown[] {
  if (text.length === 0 || text.length > 512 || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid;
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(fields) || fields.length !== length) throw invalid;
  return fields;
}

const count = (v: unknown, min: number) => typeof v === "number" && Number.isSafeInteger(v) && v >= min;

export function encodeCursor(c: SetCursor): string {
  return encodeFields([shownTaskId(c.taskId), c.setType, c.version, c.token, c.n, c.size, c.position, c.after]);
}

/** Parses a cursor or throws 1012; anything forged or truncated is refused here, before storage is read. */
export function decodeCursor(text: string): SetCursor {
  const invalid = new ServiceError(
    1012,
    {},
    { detail: "cursor is not one this service gave out (pass next_cursor back unchanged)" },
  );
  const [taskId, setType, version, token, n, size, position, after] = decodeFields(text, 8, invalid);
  if (
    typeof taskId !== "string" ||
    !ID.test(taskId) ||
    !SET_TYPES.includes(setType as never) ||
    !count(version, 1) ||
    typeof token !== "string" ||
    !TOKEN.test(token) ||
    !count(n, 1) ||
    !count(size, 1) ||
    !count(position, 1) ||
    !count(after, 1) ||
    (size as number) > (n as number) ||
    (position as number) >= (size as number) ||
    (after as number) >= (n as number)
  ) {
    throw invalid;
  }
  return {
    taskId,
    setType: setType as SetCursor["setType"],
    version: version as number,
    token,
    n: n as number,
    size: size as number,
    position: position as number,
    after: after as number,
  };
}

const IMAGE_CURSOR_TAG = "img";

/** An image listing's cursor: base64url of a short JSON array, told apart from a set's by its tag. */
export function encodeImageCursor(c: ImageCursor): string {
  return encodeFields([IMAGE_CURSOR_TAG, shownTaskId(c.taskId), c.version, c.token, c.n, c.after]);
}

/** Parses an image listing's cursor or throws 1012 (a set's cursor included). */
export function decodeImageCursor(text: string): ImageCursor {
  const invalid = new ServiceError(
    1012,
    {},
    { detail: "cursor is not one this image listing gave out (pass next_cursor back unchanged)" },
  );
  const [tag, taskId, version, token, n, after] = decodeFields(text, 6, invalid);
  const noSnapshot = version === 0 && token === "" && n === 0;
  if (
    tag !== IMAGE_CURSOR_TAG ||
    typeof taskId !== "string" ||
    !ID.test(taskId) ||
    !count(after, 1) ||
    !(noSnapshot || (count(version, 1) && typeof token === "string" && TOKEN.test(token) && count(n, 1)))
  ) {
    throw invalid;
  }
  return { taskId, version: version as number, token: token as string, n: n as number, after: after as number };
}
