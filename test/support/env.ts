import { inject } from "vitest";

// Handlers read their configuration from the environment at import, as in Lambda.
process.env.DYNAMODB_ENDPOINT = inject("dynamoEndpoint");
process.env.TABLE_NAME ??= `t${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
