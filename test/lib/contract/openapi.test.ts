import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { errorEntries, msgRegex } from "../../../lib/contract/errors.ts";
import {
  DELETE_REQUEST_EXAMPLES,
  IMAGES_QUERY_EXAMPLES,
  LIST_QUERY_EXAMPLES,
  REGISTER_REQUEST_EXAMPLES,
  SPLIT_REQUEST_EXAMPLES,
} from "../../../lib/contract/examples.ts";
import { openApiDocument } from "../../../lib/contract/openapi.ts";
import type { JsonSchema } from "../../../lib/contract/shapes.ts";
import { errorCatalogue, ServiceError } from "../../../lib/errors.ts";
import { DELETE_FIELDS, IMAGE_FIELDS, REGISTER_FIELDS, SPLIT_FIELDS } from "../../../lib/http/fields.ts";
import { parseImagesQuery, parseSetsQuery } from "../../../lib/http/queries.ts";
import { parseDeleteRequest, parseRegisterRequest, parseSplitSpec } from "../../../lib/http/validate.ts";
import { ROUTES } from "../../../lib/routes.ts";
import { contract } from "../../support/contract.ts";

const document = openApiDocument();
const schemas: Record<string, JsonSchema> = document.components.schemas;
const propertyNames = (name: string) => Object.keys((schemas[name]?.properties ?? {}) as object);
const propertyExample = (name: string, property: string): unknown =>
  ((schemas[name]?.properties ?? {}) as Record<string, { examples?: unknown[] }>)[property]?.examples?.[0];

/** The code a parse throws, or 0 when it accepts. */
function codeOf(parse: () => unknown): number {
  try {
    parse();
    return 0;
  } catch (error) {
    if (error instanceof ServiceError) return error.code;
    throw error;
  }
}

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(
      structuredClone(document) as unknown as Parameters<Validator["validate"]>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("has an operation for every route, and only those", () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
  });

  it("compiles with ajv 2020, every schema of it", () => {
    for (const name of Object.keys(schemas)) expect(() => contract.schema(name), name).not.toThrow();
  });

  it("lists every code of the catalogue, with its status and message pattern", () => {
    const entries = errorEntries();
    expect(entries.map((entry) => entry.code)).toEqual(errorCatalogue().map((entry) => entry.code));
    for (const { code, status, msg } of errorCatalogue()) {
      const schema = schemas[`Error${code}`] as { properties: { code: { const: number }; msg: { pattern: string } } };
      expect(schema.properties.code.const).toBe(code);
      expect(schema.properties.msg.pattern).toBe(msgRegex(msg));
      expect(entries.find((entry) => entry.code === code)?.statuses[0]).toBe(status);
    }
    expect(entries.find((entry) => entry.code === 1023)).toMatchObject({ statuses: [400], msg: "未知字段: {field}" });
  });

  it("answers every code somewhere: each error schema is referenced by an operation or the unknown-route response", () => {
    const text = JSON.stringify({ paths: document.paths, responses: document.components.responses });
    for (const { code } of errorCatalogue())
      expect(text, `Error${code}`).toContain(`#/components/schemas/Error${code}"`);
  });

  it("has message patterns that match the messages the service really makes", () => {
    const params = { task_id: "42", set_type_id: 2, sum: 11, total: 10, field: "images[0]", reason: "x", rule: "y" };
    for (const { code } of errorCatalogue()) {
      const error = new ServiceError(code, { ...params, policy: "error", labels: "cat, dog" });
      expect(
        new RegExp(msgRegex(errorEntries().find((e) => e.code === code)!.msg), "u").test(error.message),
        `${code}`,
      ).toBe(true);
    }
  });

  it("has examples that match their own schemas (requests and responses)", () => {
    const errors = contract.checkExamples();
    expect(errors).toEqual([]);
  });
});

describe("the document and lib/http/validate.ts", () => {
  it("name the same request fields (lib/http/fields.ts), request bodies closed to others", () => {
    expect(propertyNames("SplitRequest").sort()).toEqual([...SPLIT_FIELDS].sort());
    expect(propertyNames("RegisterRequest").sort()).toEqual([...REGISTER_FIELDS].sort());
    expect(propertyNames("ImageInput").sort()).toEqual([...IMAGE_FIELDS].sort());
    expect(propertyNames("DeleteRequest").sort()).toEqual([...DELETE_FIELDS].sort());
    for (const name of ["SplitRequest", "RegisterRequest", "ImageInput", "Ratios", "DeleteRequest"]) {
      expect(schemas[name]?.additionalProperties, name).toBe(false);
    }
  });

  it("agree that every documented PUT field is accepted with its example value, and an unknown one is 1023", () => {
    const counts = { task_id: "42", training_count: 1, verifying_count: 0, testing_count: 0 };
    for (const field of propertyNames("SplitRequest")) {
      const value = propertyExample("SplitRequest", field) ?? (field === "task_id" ? "42" : undefined);
      expect(value, `${field} has an example`).toBeDefined();
      const body = field === "ratios" ? { task_id: "42", ratios: value } : { ...counts, [field]: value };
      expect(
        codeOf(() => parseSplitSpec(body)),
        field,
      ).toBe(0);
      expect(contract.validate("SplitRequest", body), field).toEqual([]);
    }
    expect(codeOf(() => parseSplitSpec({ ...counts, dryRun: true }))).toBe(1023);
    expect(contract.validate("SplitRequest", { ...counts, dryRun: true })).not.toEqual([]);
  });

  it("agree that every documented image field is accepted, and an unknown one (top or image) is 1023", () => {
    const image = { img_id: "1", img_name: "a.png" };
    for (const field of propertyNames("ImageInput")) {
      const value = propertyExample("ImageInput", field) ?? (field === "img_id" ? "1" : undefined);
      expect(value, `${field} has an example`).toBeDefined();
      const body = { task_id: "42", images: [{ ...image, [field]: value }] };
      expect(
        codeOf(() => parseRegisterRequest(body)),
        field,
      ).toBe(0);
      expect(contract.validate("RegisterRequest", body), field).toEqual([]);
    }
    for (const body of [
      { task_id: "42", images: [image], extra: 1 },
      { task_id: "42", images: [{ ...image, labels: "cat" }] },
    ]) {
      expect(codeOf(() => parseRegisterRequest(body))).toBe(1023);
      expect(contract.validate("RegisterRequest", body)).not.toEqual([]);
    }
  });

  it("agree on the document's request examples: each parses", () => {
    for (const [name, { value }] of Object.entries(SPLIT_REQUEST_EXAMPLES)) {
      expect(
        codeOf(() => parseSplitSpec(value)),
        name,
      ).toBe(0);
    }
    for (const [name, { value }] of Object.entries(REGISTER_REQUEST_EXAMPLES)) {
      expect(
        codeOf(() => parseRegisterRequest(value)),
        name,
      ).toBe(0);
    }
    for (const [name, { value }] of Object.entries(LIST_QUERY_EXAMPLES)) {
      expect(
        codeOf(() => parseSetsQuery(value)),
        name,
      ).toBe(0);
    }
    for (const [name, { value }] of Object.entries(IMAGES_QUERY_EXAMPLES)) {
      expect(
        codeOf(() => parseImagesQuery(value)),
        name,
      ).toBe(0);
    }
    for (const [name, { value }] of Object.entries(DELETE_REQUEST_EXAMPLES)) {
      expect(
        codeOf(() => parseDeleteRequest(value)),
        name,
      ).toBe(0);
    }
  });

  it("agree on the image lookup's and listing's query parameters and their codes", () => {
    const parameters = document.paths["/training/tasks/images"]?.get?.parameters ?? [];
    expect(parameters.map((parameter) => parameter.name).sort()).toEqual(["cursor", "img_id", "limit", "task_id"]);
    expect(codeOf(() => parseImagesQuery({ task_id: "42", img_id: "a/b" }))).toBe(1011);
    expect(codeOf(() => parseImagesQuery({ task_id: "42", limit: "0" }))).toBe(1012);
    expect(codeOf(() => parseImagesQuery({ img_id: "1" }))).toBe(1002);
  });

  it("take an Idempotency-Key on DELETE exactly when lib/routes.ts says the route is idempotent", () => {
    const route = ROUTES.find((candidate) => candidate.name === "DeleteImages");
    const operation = document.paths["/training/tasks/images"]?.delete;
    const keyed = (operation?.parameters ?? []).some((parameter) => parameter.name === "Idempotency-Key");
    expect(keyed).toBe(route?.idempotent);
    const codes = JSON.stringify(operation?.responses);
    for (const code of [1024, 1025]) expect(codes.includes(`Error${code}"`), `${code}`).toBe(route?.idempotent);
  });

  // Each: a body both refuse, and the code the service answers.
  const refused: [string, unknown, number][] = [
    ["no task_id", { training_count: 1, verifying_count: 0, testing_count: 0 }, 1002],
    ["task_id too long", { task_id: "x".repeat(65), training_count: 1, verifying_count: 0, testing_count: 0 }, 1002],
    ["unsafe numeric task_id", { task_id: 2 ** 61, training_count: 1, verifying_count: 0, testing_count: 0 }, 1002],
    ["training 0", { task_id: "1", training_count: 0, verifying_count: 0, testing_count: 0 }, 1009],
    ["training 7.5", { task_id: "1", training_count: 7.5, verifying_count: 0, testing_count: 0 }, 1009],
    ["training '0'", { task_id: "1", training_count: "0", verifying_count: 0, testing_count: 0 }, 1009],
    ["verifying -1", { task_id: "1", training_count: 1, verifying_count: -1, testing_count: 0 }, 1005],
    ["testing null", { task_id: "1", training_count: 1, verifying_count: 0, testing_count: null }, 1006],
    [
      "ratios with counts",
      { task_id: "1", training_count: 1, ratios: { training: 1, verifying: 0, testing: 0 } },
      1017,
    ],
    ["ratios training 0", { task_id: "1", ratios: { training: 0, verifying: 0.5, testing: 0.5 } }, 1018],
    ["empty seed", { task_id: "1", training_count: 1, verifying_count: 0, testing_count: 0, seed: "" }, 1016],
    ["mode typo", { task_id: "1", training_count: 1, verifying_count: 0, testing_count: 0, mode: "kept" }, 1019],
    ["dry_run string", { task_id: "1", training_count: 1, verifying_count: 0, testing_count: 0, dry_run: "yes" }, 1019],
    ["algorithm v0", { task_id: "1", training_count: 1, verifying_count: 0, testing_count: 0, algorithm: "v0" }, 1019],
  ];
  it.each(refused)("agree on refusing a PUT body: %s", (_, body, code) => {
    expect(codeOf(() => parseSplitSpec(body))).toBe(code);
    expect(contract.validate("SplitRequest", body)).not.toEqual([]);
  });

  const refusedImages: [string, unknown, number][] = [
    ["no images", { task_id: "1" }, 1011],
    ["empty images", { task_id: "1", images: [] }, 1011],
    [
      "too many",
      { task_id: "1", images: Array.from({ length: 1001 }, (_, i) => ({ img_id: `${i}`, img_name: "a" })) },
      1011,
    ],
    ["blank name", { task_id: "1", images: [{ img_id: "1", img_name: "  " }] }, 1011],
    ["negative state", { task_id: "1", images: [{ img_id: "1", img_name: "a", state: -1 }] }, 1011],
    ["long label", { task_id: "1", images: [{ img_id: "1", img_name: "a", label: "x".repeat(129) }] }, 1011],
  ];
  it.each(refusedImages)("agree on refusing a POST body: %s", (_, body, code) => {
    expect(codeOf(() => parseRegisterRequest(body))).toBe(code);
    expect(contract.validate("RegisterRequest", body)).not.toEqual([]);
  });

  const refusedDeletes: [string, unknown, number][] = [
    ["no task_id", { img_ids: ["1"] }, 1002],
    ["no img_ids", { task_id: "1" }, 1011],
    ["empty img_ids", { task_id: "1", img_ids: [] }, 1011],
    ["too many", { task_id: "1", img_ids: Array.from({ length: 1001 }, (_, i) => `${i}`) }, 1011],
    ["an id twice", { task_id: "1", img_ids: ["a", "b", "a"] }, 1011],
    ["a malformed id", { task_id: "1", img_ids: ["a/b"] }, 1011],
    ["an unknown field", { task_id: "1", img_ids: ["a"], imgIds: ["b"] }, 1023],
  ];
  it.each(refusedDeletes)("agree on refusing a DELETE body: %s", (_, body, code) => {
    expect(codeOf(() => parseDeleteRequest(body))).toBe(code);
    expect(contract.validate("DeleteRequest", body)).not.toEqual([]);
  });

  it("agree that a DELETE body of 1000 distinct ids is accepted", () => {
    const body = { task_id: "42", img_ids: Array.from({ length: 1000 }, (_, i) => `id${i}`) };
    expect(codeOf(() => parseDeleteRequest(body))).toBe(0);
    expect(contract.validate("DeleteRequest", body)).toEqual([]);
  });
});
