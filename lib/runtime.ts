import type { Context } from "aws-lambda";
import { readConfig, readMaxAnswerBytes } from "./config.ts";
import type { FieldPolicy } from "./http/fields.ts";
import { answerDeadline } from "./http/service.ts";
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

/** When a request's storage work must be done (answerDeadline, with the store's answer margin). */
export const deadlineOf = (context: Partial<Pick<Context, "getRemainingTimeInMillis">> | undefined) =>
  answerDeadline(context, store.config.answerMarginMs);

/** Largest answer as Lambda carries it (MAX_ANSWER_BYTES). */
export const maxAnswerBytes = readMaxAnswerBytes();

/** Whose tasks a request may see (TENANCY, TENANT_CLAIM): read once per cold start. */
export const tenancy = readTenancy();
