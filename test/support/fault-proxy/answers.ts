/** The answers the proxy gives itself, shaped as DynamoDB's (wire JSON, HTTP status, headers). */

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { crc32 } from "node:zlib";
import type { Charge, Json } from "../capacity-model/index.ts";
import type { ThrottleError } from "./faults.ts";

const THROTTLE_TYPES: Record<ThrottleError, string> = {
  ProvisionedThroughputExceededException: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
  ThrottlingException: "com.amazon.coral.availability#ThrottlingException",
};

export function send(response: ServerResponse, status: number, body: Json): void {
  const text = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    "content-type": "application/x-amz-json-1.0",
    "content-length": text.length,
    "x-amzn-requestid": randomUUID(),
    // The SDK may verify this checksum: always send the one of the body actually sent.
    "x-amz-crc32": String(crc32(text)),
  });
  response.end(text);
}

/** Closes the connection without an answer. */
export const drop = (request: IncomingMessage): void => {
  request.socket.destroy();
};

export const throttled = (error: ThrottleError = "ProvisionedThroughputExceededException"): Json => ({
  __type: THROTTLE_TYPES[error],
  message: "Rate of requests exceeds the allowed throughput.",
});

export const injectedError = (type: string): Json => ({
  __type: `com.amazonaws.dynamodb.v20120810#${type}`,
  message: "injected",
});

export const refusedAfterDeath: Json = {
  __type: "com.amazon.coral.validate#ValidationException",
  message: "the process that made this call is dead",
};

export const proxyFailure: Json = { __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: "proxy" };

export function transactionCanceled(reasons: Json[]): Json {
  return {
    __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
    Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`,
    CancellationReasons: reasons,
  };
}

/** A TransactWriteItems cancelled by a fault: its first action for `reason`, the others None. */
export function cancelledFirstAction(input: Json, reason: string): Json {
  const actions = ((input.TransactItems ?? []) as Json[]).length;
  return transactionCanceled(
    Array.from({ length: Math.max(1, actions) }, (_, i) =>
      i === 0 ? { Code: reason, Message: "injected" } : { Code: "None" },
    ),
  );
}

export const transactionConflict: Json = {
  __type: "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
  message: "Transaction is ongoing for the item",
};

const arn = (table: string, index?: string) =>
  `arn:aws:dynamodb:local:000000000000:table/${table}${index ? `/index/${index}` : ""}`;

/** The capacity model's refusal of a call over a partition's limit. */
export const throughputExceeded = (where: Omit<Charge, "units">, kind: "Read" | "Write"): Json => ({
  __type: THROTTLE_TYPES.ProvisionedThroughputExceededException,
  message:
    "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
  ThrottlingReasons: [
    {
      reason: `${where.index ? "Index" : "Table"}${kind}KeyRangeThroughputExceeded`,
      resource: arn(where.table, where.index),
    },
  ],
});
