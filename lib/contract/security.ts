/**
 * How a caller authenticates, as the document declares it: the stack's auth setting (API_AUTH, set
 * by the stack on the open functions) becomes a security scheme, the requirement of every data
 * operation, and a paragraph of the document's description. Open routes (`open: true` in
 * lib/routes.ts) require nothing under every setting.
 */
import type { SecurityRequirement, SecurityScheme } from "./shapes.ts";

export const API_AUTH_SETTINGS = ["iam", "cognito", "none"] as const;
export type ApiAuthSetting = (typeof API_AUTH_SETTINGS)[number];

/** API_AUTH: `iam` (the default, as the stack's), `cognito` or `none`; anything else stops the function at cold start. */
export function readApiAuth(env: NodeJS.ProcessEnv = process.env): ApiAuthSetting {
  const raw = env.API_AUTH;
  if (raw === undefined || raw === "") return "iam";
  if ((API_AUTH_SETTINGS as readonly string[]).includes(raw)) return raw as ApiAuthSetting;
  throw new Error(`API_AUTH must be one of ${API_AUTH_SETTINGS.join(", ")}, got "${raw}"`);
}

export interface Security {
  /** components.securitySchemes: empty under `none`. */
  schemes: Record<string, SecurityScheme>;
  /** The `security` of every data operation. */
  data: SecurityRequirement[];
  /** The document description's paragraph on authentication. */
  description: string;
}

const SIGV4: SecurityScheme = {
  type: "apiKey",
  in: "header",
  name: "Authorization",
  description:
    "AWS Signature Version 4 (service `execute-api`, the API's region) with credentials allowed `execute-api:Invoke` on the stage (the stack's ExecuteApiArn output). The signature goes in `Authorization`, with `X-Amz-Date` and, for temporary credentials, `X-Amz-Security-Token`. A request API Gateway refuses is 1027 (401 or 403).",
  "x-amazon-apigateway-authtype": "awsSigv4",
};

const COGNITO_JWT: SecurityScheme = {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description:
    "A token of the stack's Cognito user pool as `Authorization: Bearer <token>`; an ID token carries the pool's custom attributes (the tenant claim among them). A request API Gateway refuses is 1027 (401 or 403).",
};

/** The document's security for one auth setting. */
export function securityFor(auth: ApiAuthSetting): Security {
  switch (auth) {
    case "iam":
      return {
        schemes: { sigv4: SIGV4 },
        data: [{ sigv4: [] }],
        description:
          "Every data operation is authorized by IAM: sign the request with AWS SigV4 (scheme `sigv4`). `GET /openapi.json` and `GET /docs` are open.",
      };
    case "cognito":
      return {
        schemes: { cognito: COGNITO_JWT },
        data: [{ cognito: [] }],
        description:
          "Every data operation is authorized by a Cognito user pool: send a token of the pool as a bearer token (scheme `cognito`). `GET /openapi.json` and `GET /docs` are open.",
      };
    case "none":
      return {
        schemes: {},
        data: [],
        description:
          "This deployment has no authorizer: the API is reachable only through its private endpoint (a VPC endpoint, with a resource policy that allows invoking it from there alone), so no operation asks for credentials.",
      };
  }
}
