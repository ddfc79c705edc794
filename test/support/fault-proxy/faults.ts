import type { Call } from "./calls.ts";

export type ThrottleError = "ProvisionedThroughputExceededException" | "ThrottlingException";

/** What the proxy does with one call. */
export type Fault =
  /** Forward it untouched. */
  | { kind: "pass" }
  /** Answer DynamoDB's throttling error (HTTP 400) without forwarding. */
  | { kind: "throttle"; error?: ThrottleError }
  /** Answer any DynamoDB error without forwarding, e.g. 500 InternalServerError. */
  | { kind: "error"; status: number; type: string }
  /**
   * TransactWriteItems: answer TransactionCanceledException without forwarding, the first action
   * cancelled for `reason` (DynamoDB Local never reports a TransactionConflict by itself).
   */
  | { kind: "cancel"; reason: "TransactionConflict" | "ThrottlingError" | "ConditionalCheckFailed" }
  /** BatchWriteItem / BatchGetItem: forward only the first `keep` requests and report the rest unprocessed. */
  | { kind: "unprocessed"; keep: number }
  /** Close the connection before forwarding: nothing reached DynamoDB. */
  | { kind: "drop" }
  /** Forward, then close the connection instead of answering: DynamoDB did the work, the caller never hears. */
  | { kind: "dropAnswer"; thenDie?: boolean }
  /** Wait, then apply `then` (default pass). */
  | { kind: "delay"; ms: number; then?: Fault }
  /** Hold the call until `until` settles (a paused process, a stalled request), then apply `then`. */
  | { kind: "hold"; until: Promise<unknown>; then?: Fault };

export type Policy = (call: Call) => Fault | undefined;

/** A promise with its resolver, for holding calls until a test says so. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A small seeded PRNG (mulberry32), so a run's fault pattern can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
