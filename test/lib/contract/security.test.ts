import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../../lib/contract/openapi.ts";
import { API_AUTH_SETTINGS, readApiAuth } from "../../../lib/contract/security.ts";
import { ROUTES } from "../../../lib/routes.ts";

const OPEN = ["GET /openapi.json", "GET /docs"];

/** Every operation of a document as "METHOD path", with its `security`. */
const securityByOperation = (auth: (typeof API_AUTH_SETTINGS)[number]) =>
  Object.fromEntries(
    Object.entries(openApiDocument({ auth }).paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation.security]),
    ),
  );

const dataOperations = ROUTES.map((route) => `${route.method} ${route.path}`).filter((name) => !OPEN.includes(name));

describe("the document's security, for each auth setting", () => {
  it("is IAM unless told: the default document is the iam one", () => {
    expect(openApiDocument()).toEqual(openApiDocument({ auth: "iam" }));
  });

  it("iam: a SigV4 scheme as API Gateway names it, required by every data operation", () => {
    const document = openApiDocument({ auth: "iam" });
    expect(document.components.securitySchemes).toEqual({
      sigv4: expect.objectContaining({
        type: "apiKey",
        in: "header",
        name: "Authorization",
        "x-amazon-apigateway-authtype": "awsSigv4",
      }),
    });
    const security = securityByOperation("iam");
    for (const operation of dataOperations) expect(security[operation], operation).toEqual([{ sigv4: [] }]);
    expect(document.info.description).toContain("SigV4");
  });

  it("cognito: a bearer JWT scheme, required by every data operation", () => {
    const document = openApiDocument({ auth: "cognito" });
    expect(document.components.securitySchemes).toEqual({
      cognito: expect.objectContaining({ type: "http", scheme: "bearer", bearerFormat: "JWT" }),
    });
    const security = securityByOperation("cognito");
    for (const operation of dataOperations) expect(security[operation], operation).toEqual([{ cognito: [] }]);
    expect(document.info.description).toContain("Cognito user pool");
  });

  it("none: no scheme, no operation asks for credentials, and the description says the API is private", () => {
    const document = openApiDocument({ auth: "none" });
    expect(document.components.securitySchemes).toBeUndefined();
    for (const [operation, security] of Object.entries(securityByOperation("none")))
      expect(security, operation).toEqual([]);
    expect(document.info.description).toContain("reachable only through its private endpoint");
  });

  it.each(API_AUTH_SETTINGS)(
    "%s: /openapi.json and /docs are open, and the routes with open: true are exactly those",
    (auth) => {
      const security = securityByOperation(auth);
      for (const operation of OPEN) expect(security[operation], operation).toEqual([]);
      const open = ROUTES.filter((route) => "open" in route && route.open).map((r) => `${r.method} ${r.path}`);
      expect(open.sort()).toEqual([...OPEN].sort());
    },
  );

  it.each(API_AUTH_SETTINGS)("%s: is a valid OpenAPI 3.1 document, every operation with its security", async (auth) => {
    const document = openApiDocument({ auth });
    const result = await new Validator().validate(
      structuredClone(document) as unknown as Parameters<Validator["validate"]>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(Object.keys(securityByOperation(auth)).sort()).toEqual(
      ROUTES.map((route) => `${route.method} ${route.path}`).sort(),
    );
    for (const [operation, security] of Object.entries(securityByOperation(auth)))
      for (const requirement of security)
        for (const scheme of Object.keys(requirement))
          expect(document.components.securitySchemes?.[scheme], `${operation} names ${scheme}`).toBeDefined();
  });
});

describe("API_AUTH", () => {
  it("is iam when unset or empty, else the setting it names", () => {
    expect(readApiAuth({})).toBe("iam");
    expect(readApiAuth({ API_AUTH: "" })).toBe("iam");
    for (const auth of API_AUTH_SETTINGS) expect(readApiAuth({ API_AUTH: auth })).toBe(auth);
  });

  it("refuses any other value, naming the three", () => {
    expect(() => readApiAuth({ API_AUTH: "IAM" })).toThrow('API_AUTH must be one of iam, cognito, none, got "IAM"');
    expect(() => readApiAuth({ API_AUTH: "cognito:arn" })).toThrow(/iam, cognito, none/);
  });
});
