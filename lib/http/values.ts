import { type ErrorCode, ServiceError } from "../errors.ts";
import { shown } from "./fields.ts";

/** The values every request parser reads: ids, integers, objects, own fields, and how they are refused. */

const ID = /^[0-9A-Za-z_-]{1,64}$/;
const INTEGER = /^-?\d+$/;

export type Fields = Record<string, unknown>;

export function asObject(value: unknown): Fields | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;
}

/** Reads an own property only: nothing inherited, nothing smuggled in under a `__proto__` key. */
export function own(fields: Fields, key: string): unknown {
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}

/** Characters as the user counts them (code points), not UTF-16 units. */
export const charCount = (text: string): number => [...text].length;

/** A string of the id charset, or a safe integer whose digits are one; undefined otherwise. */
export function id(value: unknown): string | undefined {
  const text =
    typeof value === "string"
      ? value
      : typeof value === "number" && Number.isSafeInteger(value)
        ? String(value)
        : undefined;
  return text !== undefined && ID.test(text) ? text : undefined;
}

/** A safe integer given as a JSON number or as an integer string (form fields arrive as strings). */
export function integer(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && INTEGER.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n + 0 : undefined; // `+ 0` turns -0 into 0
}

/** An integer field that must be at least `min`; any failure is `code`. */
export function integerField(value: unknown, code: ErrorCode, name: string, min: number): number {
  const n = integer(value);
  if (n === undefined || n < min) {
    throw new ServiceError(code, {}, { detail: `${name} must be an integer ≥ ${min}, got ${shown(value)}` });
  }
  return n;
}

export const kindOf = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;

export function requireObject(body: unknown): Fields {
  const fields = asObject(body);
  if (fields === undefined) {
    throw new ServiceError(1001, {}, { detail: `the body must be a JSON object, got ${kindOf(body)}` });
  }
  return fields;
}

/** Strips one pair of surrounding double quotes, as the legacy API's GET example sends task_id. */
export function unquote(value: unknown): unknown {
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
  if (taskId === undefined) throw new ServiceError(1002, {}, { detail: taskIdProblem(value) });
  return taskId;
}

function taskIdProblem(value: unknown): string {
  if (value === undefined) return "task_id is missing";
  return idProblem("task_id", value);
}

/** Why `value` is not an id: a number past 2^53 has already been rounded by JSON parsing, so say to send a string. */
export function idProblem(name: string, value: unknown): string {
  if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return `${name} is a number past 2^53, which arrives rounded (to ${value}): send ids as JSON strings`;
  }
  return `${name} must be 1–64 characters of 0-9 A-Z a-z _ -, got ${shown(value)}`;
}

/** 1011 naming the image field that is wrong. */
export const invalidImages = (field: string, detail: string) => new ServiceError(1011, { field }, { detail });
