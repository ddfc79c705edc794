import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { backoffMs, sleep } from "../concurrency.ts";
import type { StoreConfig } from "../config.ts";
import { storageUnavailable } from "../errors.ts";
import { countThrottle } from "../metrics.ts";

export const isLoopback = (endpoint: string | undefined) =>
  endpoint !== undefined && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint);

/**
 * The SDK client, made once per cold start. Its own retries are off (maxAttempts 1): every call
 * goes through `retrying`, which retries against a deadline instead of a count or a quota. Short
 * request timeouts and keep-alive sockets mean one hung connection cannot eat a request's budget.
 */
export function createDynamoDbClient(config: StoreConfig): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    endpoint: config.endpoint,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: config.requestTimeoutMs,
      // Without it the SDK only warns when the timeout passes, and the call goes on waiting.
      throwOnRequestTimeout: true,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
    // DynamoDB Local takes any key; anything else is signed with the usual credential chain.
    ...(isLoopback(config.endpoint) ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
}

export const documentClient = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

const THROTTLING = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "LimitExceededException",
]);
const TRANSIENT = new Set([
  // A write to the task item while a registration's transaction holds it.
  "TransactionConflictException",
  "TransactionInProgressException",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);
const NETWORK = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED"]);

type SdkError = {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: unknown;
};

/** Cancellation reasons that mean "try the same transaction again later". */
const retryableCancellation = (error: SdkError) =>
  error.name === "TransactionCanceledException" &&
  Array.isArray(error.CancellationReasons) &&
  (error.CancellationReasons as { Code?: string }[]).some(
    (reason) => reason.Code === "TransactionConflict" || reason.Code === "ThrottlingError",
  ) &&
  !(error.CancellationReasons as { Code?: string }[]).some((reason) => reason.Code === "ConditionalCheckFailed");

export const isThrottling = (error: unknown): boolean => {
  const e = error as SdkError | null;
  return THROTTLING.has(e?.name ?? "") || (e !== null && retryableCancellation(e));
};

/** Failures worth another attempt: throttling, 5xx, timeouts, dropped connections, conflicting transactions. */
export function isRetryable(error: unknown): boolean {
  const e = error as SdkError | null;
  if (e === null || typeof e !== "object") return false;
  if (isThrottling(e) || TRANSIENT.has(e.name ?? "") || NETWORK.has(e.code ?? "")) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  // A socket closed before an answer: the SDK reports it without a status.
  return (
    e.$metadata?.httpStatusCode === undefined &&
    /socket hang up|ECONNRESET|aborted/i.test(String(e.name) + String((e as Error).message))
  );
}

/**
 * The wait before retry `attempt` (from 1): capped exponential backoff with full jitter, 25 ms doubling
 * up to a cap of 1 s; for a throttled call the cap is a tenth of the time left before `dueBy` (when
 * the caller needs the call done), at least 25 ms. Writers that share one partition (all of a task's)
 * then take turns by how far behind they are, roughly earliest-deadline-first: one near or past its
 * due time retries every few tens of ms, one with time to spare every few hundred. A cap set by
 * attempts alone would favour whichever caller was throttled least, and one that fell behind would
 * stay behind (docs/design.md, "Many writers, one partition").
 */
export function retryDelayMs(
  attempt: number,
  throttled: boolean,
  dueBy: number,
  now = Date.now(),
  random: () => number = Math.random,
): number {
  const cap = throttled ? Math.min(1_000, Math.max(25, (dueBy - now) / 10)) : 1_000;
  return backoffMs(attempt, 25, cap, random) + 5;
}

/**
 * Runs `call` until it succeeds, retrying retryable failures with capped exponential backoff and
 * full jitter until `deadline` (epoch ms) would pass; then 1500 with 503 (retryable by the caller).
 * A throttled call's cap shrinks as `dueBy` (when the caller needs it done; the deadline unless it
 * says otherwise) comes near. Anything not retryable is thrown as it is.
 */
export async function retrying<T>(deadline: number, call: () => Promise<T>, dueBy = deadline): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      const throttled = isThrottling(error);
      const delay = retryDelayMs(attempt + 1, throttled, dueBy);
      const exhausted = Date.now() + delay >= deadline;
      if (throttled) countThrottle(exhausted ? "exhausted" : "retried");
      if (exhausted) throw storageUnavailable(error, true);
      await sleep(delay);
    }
  }
}

/**
 * The pause before sending unprocessed batch items or keys again (a partition over its limit: a
 * throttle like any other): throws 1500/503 when `deadline` has passed, else waits a throttled call's
 * backoff (`retryDelayMs`, due at the deadline), never past the deadline.
 */
export async function beforeResending(attempt: number, deadline: number, what: () => string): Promise<void> {
  const exhausted = Date.now() >= deadline;
  countThrottle(exhausted ? "exhausted" : "retried");
  if (exhausted) throw storageUnavailable(new Error(`deadline passed: ${what()}`), true);
  await sleep(Math.min(retryDelayMs(attempt, true, deadline), Math.max(0, deadline - Date.now())));
}
