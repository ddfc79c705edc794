import { describe, expect, it } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { isRetryable, isThrottling, retrying } from "../../../lib/store/client.ts";

const sdkError = (name: string, status = 400, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });

describe("which storage failures are retried", () => {
  it.each([
    ["ProvisionedThroughputExceededException", sdkError("ProvisionedThroughputExceededException")],
    ["ThrottlingException", sdkError("ThrottlingException")],
    ["a 500", sdkError("InternalServerError", 500)],
    ["a 503 of any name", sdkError("Whatever", 503)],
    ["a request timeout", sdkError("TimeoutError", undefined as unknown as number)],
    ["a reset connection", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })],
    ["a socket closed before an answer", Object.assign(new Error("socket hang up"), { $metadata: {} })],
    ["a conflicting transaction", sdkError("TransactionConflictException")],
    [
      "a transaction cancelled by a conflict",
      sdkError("TransactionCanceledException", 400, {
        CancellationReasons: [{ Code: "None" }, { Code: "TransactionConflict" }],
      }),
    ],
  ])("retries %s", (_name, error) => {
    expect(isRetryable(error)).toBe(true);
  });

  it.each([
    ["a failed condition", sdkError("ConditionalCheckFailedException")],
    ["a validation error", sdkError("ValidationException")],
    [
      "a transaction cancelled by a failed condition",
      sdkError("TransactionCanceledException", 400, {
        CancellationReasons: [{ Code: "ConditionalCheckFailed" }, { Code: "TransactionConflict" }],
      }),
    ],
    ["a ServiceError", new ServiceError(1008)],
    ["a plain programming error", new TypeError("x is undefined")],
  ])("does not retry %s", (_name, error) => {
    expect(isRetryable(error)).toBe(false);
  });

  it("counts throttling and throttled transactions as throttling, a 500 not", () => {
    expect(isThrottling(sdkError("ThrottlingException"))).toBe(true);
    expect(
      isThrottling(
        sdkError("TransactionCanceledException", 400, { CancellationReasons: [{ Code: "ThrottlingError" }] }),
      ),
    ).toBe(true);
    expect(isThrottling(sdkError("InternalServerError", 500))).toBe(false);
  });
});

describe("retrying against a deadline", () => {
  it("keeps retrying past any fixed count while the deadline allows, then succeeds", async () => {
    let calls = 0;
    // 11 backoffs of up to 1 s each (full jitter): a deadline no run of them can reach
    const result = await retrying(Date.now() + 20_000, async () => {
      calls++;
      if (calls < 12) throw sdkError("ProvisionedThroughputExceededException");
      return "done";
    });
    expect(result).toBe("done");
    expect(calls).toBe(12);
  });

  it("gives up before the deadline with 1500 / 503 / Retry-After, keeping the cause", async () => {
    const deadline = Date.now() + 400;
    const cause = sdkError("ThrottlingException");
    let calls = 0;

    const error = await retrying(deadline, async () => {
      calls++;
      throw cause;
    }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 1500, status: 503, retryAfter: 1, cause });
    expect(Date.now()).toBeLessThanOrEqual(deadline + 50);
    expect(calls).toBeGreaterThan(2);
  });

  it("throws what is not retryable at once", async () => {
    let calls = 0;
    const failure = sdkError("ValidationException");
    await expect(
      retrying(Date.now() + 5_000, async () => {
        calls++;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(calls).toBe(1);
  });
});
