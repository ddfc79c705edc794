import { EXPOSED_HEADERS } from "./service.ts";

/**
 * The size of an answer as Lambda carries it. Lambda's 6 MB limit on a synchronous response counts
 * the response object it returns, `{"statusCode":…,"headers":{…},"body":"…"}`, where the body is the
 * answer's JSON inside a JSON string: every `"` and `\` of that JSON is escaped once more, and a
 * control character (already `\uXXXX` or `\n` in the JSON) grows by one more backslash.
 * MAX_ANSWER_BYTES bounds this whole object, not the body alone.
 */

/** Bytes `value` adds to a Lambda response whose body is the JSON of `value`, carried as a JSON string. */
export const carriedBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(JSON.stringify(value))) - 2;

/** Bytes of a response object with an empty body: statusCode, headers, and the body's own two quotes. */
export const envelopeBytes = (statusCode: number, headers: Readonly<Record<string, string>>): number =>
  Buffer.byteLength(JSON.stringify({ statusCode, headers, body: "" }));

/** API Gateway's and Lambda's request ids are 36-character UUIDs; this leaves room for longer ones. */
export const MAX_REQUEST_ID_CHARS = 64;
/** The longest origin (scheme://host:port) an answer can echo: "https://", a 253-character host, ":65535". */
export const MAX_ORIGIN_CHARS = 8 + 253 + 6;

/** The headers of the largest success answer: the JSON type, the request id, CORS for an allowed origin. */
export const LONGEST_ANSWER_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "application/json; charset=utf-8",
  "Access-Control-Allow-Origin": "o".repeat(MAX_ORIGIN_CHARS),
  "Access-Control-Expose-Headers": EXPOSED_HEADERS,
  Vary: "Origin",
  "X-Request-Id": "r".repeat(MAX_REQUEST_ID_CHARS),
};

/** The response object around any success answer's body, counted once per answer. */
export const ANSWER_ENVELOPE_BYTES = envelopeBytes(200, LONGEST_ANSWER_HEADERS);

/** The bytes of the Lambda response that answers `body`: what MAX_ANSWER_BYTES bounds. */
export const answerBytes = (body: unknown): number => ANSWER_ENVELOPE_BYTES + carriedBytes(body);

/** Entries measured at once: one string per slice, not one per entry. */
const SLICE = 1024;

/**
 * Bytes the entries of `list` add to an answer holding it in place of `[]`: each entry carried,
 * commas between them. Stops counting once past `stopAbove`, so a huge list costs no more than the
 * part that could fit.
 */
export function listEntriesBytes(list: readonly unknown[], stopAbove = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  for (let start = 0; start < list.length && bytes <= stopAbove; start += SLICE) {
    // A slice's brackets out, the comma before it in.
    bytes += carriedBytes(list.slice(start, start + SLICE)) - 2 + (start > 0 ? 1 : 0);
  }
  return bytes;
}
