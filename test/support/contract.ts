import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { openApiDocument } from "../../lib/contract/openapi.ts";
import type { Operation, ResponseObject } from "../../lib/contract/shapes.ts";

/**
 * The OpenAPI document as ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect) sees it: every
 * `$ref` resolves inside the one document, added once under DOC_ID.
 */
const DOC_ID = "https://training-sets.local/openapi.json";
const document = openApiDocument();
const ajv = new Ajv2020.default({ allErrors: true, strict: false });
addFormats.default(ajv);
ajv.addSchema({ ...document, $id: DOC_ID });

const paths: Record<string, Record<string, Operation>> = document.paths;
const componentResponses = document.components.responses;

/** A JSON pointer token. */
const token = (text: string) => text.replaceAll("~", "~0").replaceAll("/", "~1");

const compiled = new Map<string, ValidateFunction>();
function validatorAt(pointer: string): ValidateFunction {
  let validate = compiled.get(pointer);
  if (!validate) {
    validate = ajv.getSchema(`${DOC_ID}#${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    compiled.set(pointer, validate);
  }
  return validate;
}

const describe = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""} ${JSON.stringify(error.params)}`);

function check(pointer: string, value: unknown): string[] {
  const validate = validatorAt(pointer);
  return validate(value) ? [] : describe(validate.errors);
}

/** The JSON pointer of a response's JSON schema, following a `$ref` to components.responses. */
function responsePointer(path: string, method: string, status: string): string | undefined {
  const operation = paths[path]?.[method];
  const response = operation?.responses[status];
  if (!response) return undefined;
  return `/paths/${token(path)}/${method}/responses/${status}/content/application~1json/schema`;
}

export const contract = {
  /** The compiled validator of components.schemas[name]. */
  schema: (name: string) => validatorAt(`/components/schemas/${token(name)}`),

  /** What is wrong with `value` as components.schemas[name] ([] when nothing). */
  validate: (name: string, value: unknown) => check(`/components/schemas/${token(name)}`, value),

  /** Every example of a request body or response that does not match its own schema. */
  checkExamples(): string[] {
    const problems: string[] = [];
    const media = (where: string, pointer: string, content: ResponseObject["content"]) => {
      for (const [name, example] of Object.entries(content?.["application/json"]?.examples ?? {})) {
        for (const problem of check(pointer, example.value)) problems.push(`${where} example ${name}: ${problem}`);
      }
    };
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const base = `/paths/${token(path)}/${method}`;
        media(
          `${method} ${path} request`,
          `${base}/requestBody/content/application~1json/schema`,
          operation.requestBody?.content,
        );
        for (const [status, response] of Object.entries(operation.responses)) {
          media(
            `${method} ${path} ${status}`,
            `${base}/responses/${status}/content/application~1json/schema`,
            response.content,
          );
        }
      }
    }
    for (const [name, response] of Object.entries(componentResponses)) {
      media(`responses ${name}`, `/components/responses/${name}/content/application~1json/schema`, response.content);
    }
    return problems;
  },

  /**
   * What is wrong with an HTTP answer as the document describes it ([] when nothing): the
   * operation's response for its status, or for a path or method the document does not have,
   * the unknown-route answer (1013, 404 or 405); and a JSON content type.
   */
  checkReply(method: string, url: string, status: number, contentType: string | null, body: unknown): string[] {
    // Read as the local gateway reads it: "//x/…" is a path, not a host.
    const pathname = new URL(`http://localhost${url.startsWith("/") ? url : "/"}`).pathname;
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
    const operation = paths[path]?.[method.toLowerCase()];
    const problems: string[] = [];
    if (!/^application\/json\b/.test(contentType ?? "")) problems.push(`content-type ${contentType}`);
    if (!operation) {
      if (status !== 404 && status !== 405 && status !== 413) problems.push(`status ${status} for an unknown route`);
      const pointer =
        status === 413
          ? "/components/schemas/Error1014"
          : "/components/responses/UnknownRoute/content/application~1json/schema";
      return [...problems, ...check(pointer, body)];
    }
    const pointer = responsePointer(path, method.toLowerCase(), String(status));
    if (!pointer) return [...problems, `status ${status} is not documented for ${method} ${path}`];
    return [...problems, ...check(pointer, body)];
  },
};
