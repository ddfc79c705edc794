import type { Context } from "aws-lambda";
import { readConfig } from "./config.ts";
import type { FieldPolicy } from "./http/fields.ts";
import { readTenancy } from "./http/tenancy.ts";
import { log } from "./log.ts";
import { createStore } from "./store/index.ts";

/** The store every function uses, built once per cold start from the environment. */
export const store = createStore(readConfig());

/**
 * Unknown body fields are refused (1023) unless STRICT_FIELDS=false, which logs them instead, for
 * legacy callers that send extras.
 */
export const fieldPolicy: FieldPolicy =
  process.env.STRICT_FIELDS === "false"
    ? {
        strict: false,
        onUnknown: (fields) => log("warn", "unknown fields ignored", { fields }),
      }
    : { strict: true };

/**
 * When a request's storage work must be done: the time the function has left, less the margin
 * that lets its answer (a 503 included) reach the caller first. Without a Lambda context (tests,
 * direct calls) the store's own budget applies.
 */
export function deadlineOf(
  context: Partial<Pick<Context, "getRemainingTimeInMillis">> | undefined,
): number | undefined {
  const left = context?.getRemainingTimeInMillis?.();
  return typeof left === "number" && left > 0 ? Date.now() + left - store.config.answerMarginMs : undefined;
}

/** Whose tasks a request may see (TENANCY, TENANT_CLAIM): read once per cold start. */
export const tenancy = readTenancy();
