import createFetchClient from "openapi-fetch";
import { type AuthOptions, authorized } from "./auth.ts";
import { retryAfterSeconds, TrainingSetsNetworkError, toError } from "./errors.ts";
import type { paths } from "./schema.ts";
import { DEFAULT_BASE_URL } from "./types.ts";

export interface RetryOptions {
  /** Retries after the first attempt. Default 4. */
  retries?: number;
  /** First backoff ceiling; doubles each retry. Default 200 ms. */
  baseDelayMs?: number;
  /** Backoff cap. Default 5 s. */
  maxDelayMs?: number;
  /** The longest Retry-After honoured; a longer one ends the retries. Default 60 s. */
  maxRetryAfterMs?: number;
}

export interface ClientOptions extends AuthOptions {
  /** Default http://127.0.0.1:8000 (`npm start`). A deployed stage: its ApiUrl output. */
  baseUrl?: string;
  retry?: RetryOptions;
  /** Per-attempt timeout. Default 60 s (API Gateway answers within 29). */
  timeoutMs?: number;
  /** Called before each retry (for progress output and tests). */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  /** A fetch to use instead of the global one (it gets the request signed, when it is signed). */
  fetch?: (input: Request) => Promise<Response>;
}

type Sent = { response: Response; error?: unknown };

/**
 * The typed HTTP client (openapi-fetch over the authorized fetch) and the three ways the
 * operations send through it: `attempt` once, `retried` on 503 and network failures, `unwrap`
 * the body of a success.
 */
export function createTransport(options: ClientOptions) {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  const retry = {
    retries: options.retry?.retries ?? 4,
    baseDelayMs: options.retry?.baseDelayMs ?? 200,
    maxDelayMs: options.retry?.maxDelayMs ?? 5000,
    maxRetryAfterMs: options.retry?.maxRetryAfterMs ?? 60_000,
  };
  const timeoutMs = options.timeoutMs ?? 60_000;
  const http = createFetchClient<paths>({
    baseUrl,
    fetch: authorized(baseUrl, options, options.fetch ?? ((request) => fetch(request))),
    headers: { accept: "application/json" },
  });

  /** One request; throws TrainingSetsNetworkError when no answer came, and returns what openapi-fetch parsed otherwise. */
  async function attempt<T extends Sent>(
    method: string,
    path: string,
    send: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    try {
      return await send(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      throw new TrainingSetsNetworkError(method, `${baseUrl}${path}`, error);
    }
  }

  /**
   * A request, retried on 503 and network failures — and, for a PUT, POST or DELETE (which carry an
   * Idempotency-Key), on 1025: the first request with the key is still running; see client/index.ts.
   */
  async function retried<T extends Sent>(
    method: string,
    path: string,
    send: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    for (let retryNumber = 0; ; retryNumber++) {
      let reason: string;
      let retryAfterMs = 0;
      try {
        const result = await attempt(method, path, send);
        const status = result.response.status;
        const running = method !== "GET" && status === 409 && (result.error as { code?: unknown })?.code === 1025;
        if (status !== 503 && !running) return result;
        const after = retryAfterSeconds(result.response.headers.get("retry-after"));
        retryAfterMs = (after ?? 0) * 1000;
        if (retryNumber >= retry.retries || retryAfterMs > retry.maxRetryAfterMs) return result;
        reason = running
          ? "1025 (the first request with this Idempotency-Key is still running)"
          : `HTTP 503${after === undefined ? "" : `, Retry-After ${after}`}`;
      } catch (error) {
        if (!(error instanceof TrainingSetsNetworkError) || retryNumber >= retry.retries) throw error;
        reason = error.message;
      }
      // Full jitter under a capped exponential ceiling, but never sooner than Retry-After asked.
      const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** retryNumber);
      const delayMs = Math.max(retryAfterMs, Math.round(Math.random() * ceiling));
      options.onRetry?.({ attempt: retryNumber + 1, delayMs, reason });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** The body of a success, or a TrainingSetsError for anything else. */
  function unwrap<D>(result: { data?: D; error?: unknown; response: Response }): D {
    const { response } = result;
    if (response.ok && result.data !== undefined) return result.data;
    throw toError(response, result.error ?? result.data);
  }

  return { baseUrl, http, attempt, retried, unwrap };
}
