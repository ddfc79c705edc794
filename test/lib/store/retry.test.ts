import { afterEach, describe, expect, it, vi } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { isRetryable, isThrottling, retryDelayMs, retrying } from "../../../lib/store/client.ts";

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

describe("how long a retry waits", () => {
  const longest = () => 0.999_999; // the top of the jitter
  const now = 1_000_000;

  it("a throttled call waits at most a tenth of the time left before it is due, between 25 ms and 1 s", () => {
    const wait = (dueInMs: number) => retryDelayMs(20, true, now + dueInMs, now, longest);
    expect(wait(60_000)).toBe(1_004);
    expect(wait(5_000)).toBe(504);
    expect(wait(100)).toBe(29);
    expect(wait(-3_000)).toBe(29); // past due: as soon as the floor allows
  });

  it("so of two throttled writers the one nearer its due time retries several times as often", () => {
    let draws = 0;
    const uniform = () => (draws++ % 100) / 100;
    const mean = (dueInMs: number) => {
      let sum = 0;
      for (let i = 0; i < 100; i++) sum += retryDelayMs(20, true, now + dueInMs, now, uniform);
      return sum / 100;
    };
    expect(mean(20_000) / mean(1_000)).toBeGreaterThan(5);
  });

  it("the cap still grows with the attempts from 25 ms, and other failures ignore the due time", () => {
    expect(retryDelayMs(1, true, now + 60_000, now, longest)).toBe(54);
    expect(retryDelayMs(3, true, now + 60_000, now, longest)).toBe(204);
    expect(retryDelayMs(20, false, now + 100, now, longest)).toBe(1_004);
  });

  describe("in retrying", () => {
    afterEach(() => {
      vi.useRealTimers();
      vi.restoreAllMocks();
    });

    /** The (fake) time retrying takes over 10 throttled attempts, each wait at the top of its jitter. */
    async function timeOfTenThrottles(dueInMs: number | undefined) {
      vi.useFakeTimers();
      vi.spyOn(Math, "random").mockReturnValue(longest());
      const start = Date.now();
      let calls = 0;
      const done = retrying(
        start + 60_000,
        async () => {
          if (++calls <= 10) throw sdkError("ProvisionedThroughputExceededException");
          return Date.now() - start;
        },
        dueInMs === undefined ? undefined : start + dueInMs,
      );
      await vi.runAllTimersAsync();
      return done;
    }

    it("retries a call that is due now every 29 ms, one with a minute to spare backing off to 1 s", async () => {
      expect(await timeOfTenThrottles(0)).toBe(10 * 29);
      // 54 + 104 + 204 + 404 + 804 + 5 × 1,004: due at the deadline, a minute away
      expect(await timeOfTenThrottles(undefined)).toBe(6_590);
    });
  });
});
