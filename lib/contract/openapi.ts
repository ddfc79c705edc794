/**
 * The API's contract as an OpenAPI 3.1 document, built once in code: the error part from the one
 * catalogue (lib/errors.ts), the limits and enums from lib/model.ts and lib/plan; the request
 * schemas name exactly the fields of lib/http/fields.ts (the compiler checks it: `satisfies`).
 * Served at GET /openapi.json; tests tie it to the request parsers (lib/http/) and check every HTTP test
 * response against it.
 */
import type { ErrorCode } from "../errors.ts";
import { DEFAULT_LIMIT, MAX_LIMIT, SET_TYPES } from "../model.ts";
import { ROUTES } from "../routes.ts";
import { DOCS_ASSETS, DOCS_PATH } from "./docs-page.ts";
import {
  errorEntries,
  errorExample,
  errorResponses,
  errorSchema,
  errorSchemaName,
  errorTable,
  OPERATION_ERRORS,
  operationIdOf,
} from "./errors.ts";
import {
  DEMO_TASK,
  SET_PAGE_EXAMPLE,
  SPLIT_EXAMPLE,
  SPLIT_MSG,
  SPLIT_REQUEST_EXAMPLES,
  SUMMARY_EXAMPLE,
} from "./examples.ts";
import { imagePaths } from "./images.ts";
import { IDEMPOTENCY_KEY_PARAMETER, queryParameter, REPLAYED_HEADERS } from "./parameters.ts";
import { SCHEDULE_SCHEMAS, schedulePaths } from "./schedule.ts";
import { DOMAIN_SCHEMAS } from "./schemas.ts";
import { type ApiAuthSetting, securityFor } from "./security.ts";
import { json, type Method, type OpenApiDocument, type Operation, ref } from "./shapes.ts";

/** The route `method path` as lib/routes.ts has it. */
const routeOf = (method: string, path: string) =>
  (ROUTES as readonly { method: string; path: string; idempotent: boolean; open?: true }[]).find(
    (route) => route.method === method && route.path === path,
  );

/** Whether the route `method path` takes an Idempotency-Key (lib/routes.ts). */
const idempotent = (method: string, path: string): boolean => routeOf(method, path)?.idempotent === true;

/**
 * The OpenAPI 3.1 document of the API, declaring how to authenticate under the stack's auth
 * setting (`iam` unless told: the stack's default, and the document of the tests, the typed
 * client and `npm start`).
 */
export function openApiDocument(options: { auth?: ApiAuthSetting } = {}): OpenApiDocument {
  const security = securityFor(options.auth ?? "iam");
  /** Every operation with its `security`: none for the open routes (lib/routes.ts), else the setting's. */
  const withSecurity = (paths: Record<string, Partial<Record<Method, Omit<Operation, "security">>>>) =>
    Object.fromEntries(
      Object.entries(paths).map(([path, item]) => [
        path,
        Object.fromEntries(
          Object.entries(item).map(([method, operation]) => [
            method,
            { ...operation, security: routeOf(method.toUpperCase(), path)?.open ? [] : security.data },
          ]),
        ),
      ]),
    );
  const entries = errorEntries();
  const errorsOf = (operation: keyof typeof OPERATION_ERRORS, extra: readonly ErrorCode[] = []) =>
    errorResponses([...OPERATION_ERRORS[operation], ...extra], entries);
  const deleteKeyed = idempotent("DELETE", "/training/tasks/images");
  const unknownRoute = entries.find((e) => e.code === 1013)!;
  return {
    openapi: "3.1.0",
    info: {
      title: "training-sets",
      version: "0.1.0",
      summary:
        "Split a labelling task's images at random into training, verifying and testing sets, and list each set.",
      description: [
        "Every answer but the docs page's is JSON (`application/json; charset=utf-8`) with `code` (0 = success) and `msg` (Chinese, shown to the platform's users); an error answer may add `detail` (English) and, from the server side, `request_id`. All ids are strings in answers. A request body is read as JSON whatever its Content-Type says.",
        "",
        "Set types: `0` training 训练, `1` testing 测试, `2` verifying 验证.",
        "",
        "Validation reports the first failing rule: body (1014, 1001), unknown fields (1023), task_id (1002), then the request's fields in order, and only then reads the task (1003, 1007); 1008 comes only at publish.",
        "",
        "## Authentication",
        "",
        security.description,
        "",
        // Folded, so the page opens on the routes; the table is one click away.
        "<details><summary>Error codes: code, HTTP status, when, msg</summary>",
        "",
        errorTable(entries),
        "",
        "</details>",
      ].join("\n"),
    },
    servers: [{ url: ".", description: "where this document is served (the local server, or the deployed stage)" }],
    tags: [
      { name: "sets", description: "Split a task and list its sets" },
      { name: "images", description: "Register, look up, list and delete a task's images" },
      { name: "schedules", description: "Re-split a task on a schedule of its own" },
      { name: "contract", description: "This document, and a page that shows it" },
    ],
    paths: withSecurity({
      "/training/tasks/sets": {
        put: {
          operationId: operationIdOf("SplitTask"),
          tags: ["sets"],
          summary: "Split a task's images at random",
          description:
            "A fresh uniformly random permutation (Fisher–Yates); the same seed over the same images gives the same split. Images beyond the counts stay unassigned.",
          parameters: [IDEMPOTENCY_KEY_PARAMETER],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("SplitRequest"), examples: SPLIT_REQUEST_EXAMPLES } },
          },
          responses: {
            "200": {
              description: "The split",
              headers: REPLAYED_HEADERS,
              ...json(ref("SplitResponse"), {
                legacy: {
                  summary: "The legacy API's answer (plus task_id, unassigned_count, seed, version)",
                  value: SPLIT_EXAMPLE,
                },
                ids_omitted: {
                  summary: "A split too big for one answer",
                  value: {
                    code: 0,
                    msg: SPLIT_MSG,
                    task_id: DEMO_TASK,
                    ids_omitted: true,
                    set_sizes: { training: 7, verifying: 2, testing: 1 },
                    unassigned_count: 0,
                    seed: "demo",
                    version: 1,
                  },
                },
              }),
            },
            ...errorsOf("SplitTask"),
          },
        },
        get: {
          operationId: operationIdOf("ListSet"),
          tags: ["sets"],
          summary: "List one set (with set_type_id), or the task's split summary (without)",
          description:
            "With `set_type_id`: one page of the set in ascending order_id; `next_cursor` only when more images follow. Without it: the live split and the last 20. Other query parameters are ignored.",
          parameters: [
            queryParameter(
              "task_id",
              true,
              { type: "string", pattern: '^"?[0-9A-Za-z_-]{1,64}"?$' },
              "The task; may come in double quotes, as the legacy platform sends it.",
            ),
            queryParameter(
              "set_type_id",
              false,
              { type: "string", enum: SET_TYPES.map(String) },
              "0 training, 1 testing, 2 verifying (1004); without it, the summary.",
            ),
            queryParameter(
              "limit",
              false,
              { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
              "Images per page (1012).",
            ),
            queryParameter("cursor", false, { type: "string" }, "next_cursor of the previous page (1012, 1015)."),
          ],
          responses: {
            "200": {
              description: "A page of the set, or (without set_type_id) the task's split summary",
              ...json(
                { oneOf: [ref("SetPage"), ref("TaskSummary")] },
                {
                  set_page: { summary: "The legacy API's answer: a set", value: SET_PAGE_EXAMPLE },
                  next_page: {
                    summary: "A page with more to follow",
                    value: {
                      code: 0,
                      msg: "集合编号id=2的图像数据查询成功",
                      task_id: DEMO_TASK,
                      img_info_list: [
                        { img_name: "img_拓海_1.png", img_id: "2018070417860564000", state: 0, order_id: 1 },
                      ],
                      next_cursor: "WyIyMDE4MDYyMjEyMzQ1Njc4OTExIiwyLDEsIjUxOThiY2VmMGVjMCIsMTAsMiwxLDFd",
                    },
                  },
                  summary: { summary: "The split summary (no set_type_id)", value: SUMMARY_EXAMPLE },
                },
              ),
            },
            ...errorsOf("ListSet"),
          },
        },
      },
      "/training/tasks/images": imagePaths(errorsOf, deleteKeyed),
      "/training/tasks/schedule": schedulePaths((operation) => errorsOf(operation)),
      "/openapi.json": {
        get: {
          operationId: operationIdOf("OpenApiDocument"),
          tags: ["contract"],
          summary: "This OpenAPI 3.1 document",
          description:
            "Open under every auth setting: it holds no data. It declares the security scheme of the deployment that serves it.",
          responses: {
            "200": {
              description: "The document",
              ...json({
                type: "object",
                properties: { openapi: { const: "3.1.0" }, paths: { type: "object", additionalProperties: true } },
                required: ["openapi", "paths"],
              }),
            },
            ...errorsOf("OpenApiDocument"),
          },
        },
      },
      [DOCS_PATH]: {
        get: {
          operationId: operationIdOf("DocsPage"),
          tags: ["contract"],
          summary: "This document as a page (Swagger UI), and the files the page loads",
          description:
            "Open under every auth setting. Without `asset`: an HTML page showing this document (Swagger UI over `/openapi.json`). With `asset`: one of the page's two files, served by the same function, so the page loads nothing from elsewhere. Other query parameters are ignored.",
          parameters: [
            queryParameter(
              "asset",
              false,
              { type: "string", enum: DOCS_ASSETS },
              "A file of the page; any other name is 1013 (404).",
            ),
          ],
          responses: {
            "200": {
              description: "The page (text/html), or the file asked for (text/css, text/javascript)",
              content: Object.fromEntries(
                ["text/html", "text/css", "text/javascript"].map((type) => [type, { schema: { type: "string" } }]),
              ),
            },
            "404": {
              description: `1013: no such asset (detail names the two there are)`,
              ...json(ref(errorSchemaName(1013)), {
                "1013": {
                  summary: unknownRoute.msg,
                  value: {
                    ...(errorExample(unknownRoute) as object),
                    detail: `no asset "swagger-ui.js" on ${DOCS_PATH}: the page loads ${DOCS_ASSETS.join(" and ")}`,
                  },
                },
              }),
            },
            ...errorsOf("DocsPage"),
          },
        },
      },
    }),
    components: {
      ...(Object.keys(security.schemes).length > 0 ? { securitySchemes: security.schemes } : {}),
      schemas: {
        ...DOMAIN_SCHEMAS,
        ...SCHEDULE_SCHEMAS,
        ...Object.fromEntries(entries.map((entry) => [errorSchemaName(entry.code), errorSchema(entry)])),
      },
      responses: {
        UnknownRoute: {
          description: `${unknownRoute.when}: any other path or method`,
          ...json(ref(errorSchemaName(1013)), {
            "1013": { summary: unknownRoute.msg, value: errorExample(unknownRoute) },
          }),
        },
      },
    },
  };
}
