import { ServiceError } from "./errors.ts";
import { type Cursor, SET_TYPES } from "./model.ts";

const ID = /^[0-9A-Za-z_-]{1,64}$/;

/** Cursors are opaque to callers: base64url of a short JSON array. */
export function encodeCursor(c: Cursor): string {
  const fields = [c.taskId, c.setType, c.version, c.slot, c.position, c.orderId, c.imgId];
  return Buffer.from(JSON.stringify(fields), "utf8").toString("base64url");
}

/** Parses a cursor or throws 1012; anything forged or truncated is refused here, before storage is read. */
export function decodeCursor(text: string): Cursor {
  const invalid = new ServiceError(1012);
  if (text.length === 0 || text.length > 512 || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid;
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(fields) || fields.length !== 7) throw invalid;
  const [taskId, setType, version, slot, position, orderId, imgId] = fields as unknown[];
  const count = (v: unknown, min: number) => typeof v === "number" && Number.isSafeInteger(v) && v >= min;
  if (
    typeof taskId !== "string" ||
    !ID.test(taskId) ||
    !SET_TYPES.includes(setType as never) ||
    !count(version, 1) ||
    (slot !== "a" && slot !== "b") ||
    !count(position, 1) ||
    !count(orderId, 1) ||
    typeof imgId !== "string" ||
    !ID.test(imgId)
  ) {
    throw invalid;
  }
  return {
    taskId,
    setType: setType as Cursor["setType"],
    version: version as number,
    slot,
    position: position as number,
    orderId: orderId as number,
    imgId,
  };
}
