import type { ErrorBody, ErrorCode } from "./types.ts";

/** An answer from the API (or something in front of it) that is not a success. */
export class TrainingSetsError extends Error {
  override readonly name = "TrainingSetsError";
  /** The API's error code; null when the answer is not the API's JSON (e.g. a proxy's HTML page). */
  readonly code: ErrorCode | null;
  /** The API's msg (Chinese, for the platform's users), or the start of a non-JSON body. */
  readonly msg: string;
  /** English: the field, the rule and the value received. */
  readonly detail: string | undefined;
  /** The HTTP status. */
  readonly status: number;
  /** The request id of a server-side failure (quote it when reporting one). */
  readonly requestId: string | undefined;
  /** Seconds the answer asked to wait before a retry (Retry-After). */
  readonly retryAfter: number | undefined;

  constructor(init: {
    code: ErrorCode | null;
    msg: string;
    detail?: string | undefined;
    status: number;
    requestId?: string | undefined;
    retryAfter?: number | undefined;
  }) {
    super(
      `${init.code ?? `HTTP ${init.status}`}: ${init.msg}${init.detail ? ` (${init.detail})` : ""}${init.requestId ? ` [request_id ${init.requestId}]` : ""}`,
    );
    this.code = init.code;
    this.msg = init.msg;
    this.detail = init.detail;
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
  }
}

/** A request that got no answer: connection refused or reset, DNS, timeout. */
export class TrainingSetsNetworkError extends Error {
  override readonly name = "TrainingSetsNetworkError";
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, cause: unknown) {
    super(`${method} ${url}: ${describeCause(cause)}`, { cause });
    this.method = method;
    this.url = url;
  }
}

/** The TrainingSetsError an answer that is not a success stands for. */
export function toError(response: Response, body: unknown): TrainingSetsError {
  const retryAfter = retryAfterSeconds(response.headers.get("retry-after"));
  const headerRequestId = response.headers.get("x-amzn-requestid") ?? undefined;
  if (isErrorBody(body)) {
    return new TrainingSetsError({
      code: body.code,
      msg: body.msg,
      detail: body.detail,
      status: response.status,
      requestId: body.request_id ?? headerRequestId,
      retryAfter,
    });
  }
  const text = typeof body === "string" ? body : body === undefined ? "" : JSON.stringify(body);
  return new TrainingSetsError({
    code: null,
    msg: text.slice(0, 200) || response.statusText || `HTTP ${response.status}`,
    status: response.status,
    requestId: headerRequestId,
    retryAfter,
  });
}

function isErrorBody(body: unknown): body is ErrorBody {
  return (
    typeof body === "object" &&
    body !== null &&
    typeof (body as { code?: unknown }).code === "number" &&
    (body as { code: number }).code !== 0 &&
    typeof (body as { msg?: unknown }).msg === "string"
  );
}

/** A success whose body is not the shape the operation answers. */
export function unexpected(what: string, body: unknown): TrainingSetsError {
  return new TrainingSetsError({
    code: null,
    msg: `expected ${what}, got ${JSON.stringify(body).slice(0, 200)}`,
    status: 200,
  });
}

/** Retry-After as seconds: an integer, or an HTTP date. */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error ? `: ${(error.cause as Error & { code?: string }).code ?? error.cause.message}` : "";
  return `${error.name === "TimeoutError" ? "timed out" : error.message}${cause}`;
}
