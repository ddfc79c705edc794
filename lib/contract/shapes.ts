/** The parts of OpenAPI 3.1 and JSON Schema the contract is built from, and small builders of them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON Schema 2020-12 object (OpenAPI 3.1's schema dialect). */
export type JsonSchema = { [key: string]: unknown };

export interface Example {
  summary: string;
  value: unknown;
}
export interface MediaType {
  schema: JsonSchema;
  examples?: Record<string, Example>;
}
export interface ResponseObject {
  description: string;
  headers?: Record<string, { schema: JsonSchema; description?: string }>;
  content?: Record<string, MediaType>;
}
export interface Parameter {
  name: string;
  in: "query" | "header";
  required: boolean;
  schema: JsonSchema;
  description: string;
}
/** An OpenAPI security scheme; `x-` keys are extensions (API Gateway's among them). */
export interface SecurityScheme {
  type: "apiKey" | "http";
  description: string;
  in?: "header";
  name?: string;
  scheme?: "bearer";
  bearerFormat?: string;
  [extension: `x-${string}`]: unknown;
}
/** One way to satisfy an operation: scheme names, each with its scopes (none here). */
export type SecurityRequirement = Record<string, string[]>;
export interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
  /** Who may call it: any one requirement; `[]` open to anyone. */
  security: SecurityRequirement[];
}
export type Method = "get" | "put" | "post" | "delete";
/** The parts of an OpenAPI 3.1 document this API uses. */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; summary: string; description: string };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<Method, Operation>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    securitySchemes?: Record<string, SecurityScheme>;
  };
}

/** The largest integer a JSON number carries exactly. */
export const SAFE = Number.MAX_SAFE_INTEGER;
export const ID_PATTERN = "^[0-9A-Za-z_-]{1,64}$";

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const int = (minimum: number, description?: string): JsonSchema => ({
  type: "integer",
  minimum,
  maximum: SAFE,
  ...(description ? { description } : {}),
});
/** The two fields that say a capped list (its first entries within LIST_BYTES) was cut: its total and `truncated`. */
export const cut = (name: string): Record<string, JsonSchema> => ({
  [`${name}_total`]: int(0, `present only when ${name} was cut to its first entries: how many there were`),
  [`${name}_truncated`]: { const: true },
});

export const object = (
  properties: Record<string, JsonSchema>,
  required: string[],
  extra: JsonSchema = {},
): JsonSchema => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
  ...extra,
});

export const json = (
  schema: JsonSchema,
  examples: Record<string, Example> = {},
): { content: Record<string, MediaType> } => ({
  content: {
    "application/json": { schema, ...(Object.keys(examples).length > 0 ? { examples } : {}) },
  },
});
