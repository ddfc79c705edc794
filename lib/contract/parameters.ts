import type { JsonSchema, Parameter } from "./shapes.ts";

/** Parameters and headers more than one operation declares. */

/** The Idempotency-Key request header of the PUT, the POST and (when its route takes one) the DELETE (docs/api.md "Idempotency keys"). */
export const IDEMPOTENCY_KEY_PARAMETER: Parameter = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  schema: {
    type: "string",
    pattern: '^"?[\\x21-\\x7E]{1,255}"?$',
    examples: ['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
  },
  description:
    "IETF httpapi Idempotency-Key: 1–255 visible ASCII characters, quoted or not. The same key and body from the same caller within the expiry (1 h) gets the first answer again, with Idempotent-Replayed: true, and does nothing again; another body is 1024; while the first request runs, 1025. Error answers are not kept. Without it, every request runs.",
};

/** The 200 answer's header on a replay. */
export const REPLAYED_HEADERS = {
  "Idempotent-Replayed": {
    schema: { const: "true" },
    description: "present (true) when this is the kept answer of an earlier request with the same Idempotency-Key",
  },
};

export const queryParameter = (
  name: string,
  required: boolean,
  schema: JsonSchema,
  description: string,
): Parameter => ({
  name,
  in: "query" as const,
  required,
  schema,
  description,
});
