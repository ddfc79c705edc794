import { Validations } from "aws-cdk-lib";
import {
  AuthorizationType,
  type CognitoUserPoolsAuthorizer,
  EndpointType,
  type Method,
  type MethodOptions,
  type RestApiProps,
} from "aws-cdk-lib/aws-apigateway";
import { InterfaceVpcEndpoint } from "aws-cdk-lib/aws-ec2";
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Construct } from "constructs";
import type { Job, Route } from "../lib/routes.ts";
import { SettingError } from "./setting-error.ts";

/**
 * How callers authenticate. `iam`: every method but the open ones requires a SigV4-signed request
 * from a principal allowed `execute-api:Invoke`; `cognito`: a Cognito user pool token in
 * `Authorization`; `none`: nothing per request, and so only on a private endpoint: the API is
 * reachable only through these VPC endpoints, and its resource policy refuses every other caller.
 */
export type ApiAuth =
  | { readonly type: "iam" }
  | { readonly type: "cognito"; readonly userPoolArn: string }
  | { readonly type: "none"; readonly vpcEndpointIds: readonly string[] };

/**
 * Whose tasks a request may see (docs/operations.md "Authentication"): `off`, one namespace; `claim`, the value of a
 * Cognito token's claim (`claim`) is the tenant; `account`, each AWS account that signs is one.
 */
export interface Tenancy {
  readonly mode: "off" | "account" | "claim";
  /** The claim that names the tenant under `claim` (the functions get it whatever the mode). */
  readonly claim: string;
}

/** The tenancies each auth setting allows: `claim` needs Cognito's claims, `account` IAM's signer. */
const ALLOWED_TENANCY: Record<ApiAuth["type"], readonly Tenancy["mode"][]> = {
  cognito: ["claim", "off"],
  iam: ["off", "account"],
  none: ["off"],
};

/** The tenancy an auth setting gets when none is configured: the first it allows. */
export const defaultTenancyMode = (auth: ApiAuth): Tenancy["mode"] => ALLOWED_TENANCY[auth.type][0]!;

/** The modes `auth` allows, or a one-line error naming them. */
export function checkTenancy(auth: ApiAuth, tenancy: Tenancy): void {
  const allowed = ALLOWED_TENANCY[auth.type];
  if (!allowed.includes(tenancy.mode)) {
    throw new SettingError(
      `training-sets:tenancy must be ${allowed.map((mode) => `"${mode}"`).join(" or ")} under training-sets:auth=${auth.type}, got "${tenancy.mode}"`,
    );
  }
  if (!/^\S{1,128}$/.test(tenancy.claim)) {
    throw new SettingError(
      `training-sets:tenantClaim must be a claim name of 1–128 characters without spaces, got ${JSON.stringify(tenancy.claim)}`,
    );
  }
}

/** The one line synth fails with when `none` would be public. */
export const NONE_NEEDS_ENDPOINTS =
  "training-sets:auth=none needs training-sets:vpcEndpointIds (the execute-api VPC endpoints that may call the API, which is then private): without them the data would be open to the internet";

/** A function that stays open under every auth setting, and gets no table (`open: true` in lib/routes.ts). */
export const isOpen = (fn: Route | Job): boolean => "open" in fn && fn.open === true;

/**
 * Where the API is reachable. IAM and Cognito: a regional endpoint. `none`: a private endpoint,
 * attached to the given VPC endpoints, whose resource policy allows execute-api:Invoke only through them.
 */
export function endpointOf(scope: Construct, auth: ApiAuth): Partial<RestApiProps> {
  if (auth.type !== "none") return { endpointTypes: [EndpointType.REGIONAL] };
  if (auth.vpcEndpointIds.length === 0) throw new SettingError(NONE_NEEDS_ENDPOINTS);
  const vpcEndpoints = auth.vpcEndpointIds.map((id) =>
    InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(scope, `CallerEndpoint-${id}`, {
      vpcEndpointId: id,
      port: 443,
    }),
  );
  const invoke = { principals: [new AnyPrincipal()], actions: ["execute-api:Invoke"], resources: ["execute-api:/*"] };
  const fromEndpoints = { "aws:SourceVpce": [...auth.vpcEndpointIds] };
  return {
    endpointConfiguration: { types: [EndpointType.PRIVATE], vpcEndpoints },
    policy: new PolicyDocument({
      statements: [
        // The deny stays true whatever is allowed later: nothing but these endpoints reaches the API.
        new PolicyStatement({ ...invoke, effect: Effect.DENY, conditions: { StringNotEquals: fromEndpoints } }),
        new PolicyStatement({ ...invoke, effect: Effect.ALLOW, conditions: { StringEquals: fromEndpoints } }),
      ],
    }),
  };
}

/** A method's authorization: none for the open routes and under `none`, else the setting's. */
export function methodOptionsOf(
  auth: ApiAuth,
  open: boolean,
  authorizer: CognitoUserPoolsAuthorizer | undefined,
): MethodOptions {
  if (open || auth.type === "none") return { authorizationType: AuthorizationType.NONE };
  if (auth.type === "iam") return { authorizationType: AuthorizationType.IAM };
  return { authorizationType: AuthorizationType.COGNITO, authorizer };
}

/** Why `none` is not the internet's: said wherever an acknowledgement rests on it. */
const privateReason = (auth: { vpcEndpointIds: readonly string[] }) =>
  `training-sets:auth=none makes the API PRIVATE: it is reachable only through the VPC endpoints ${auth.vpcEndpointIds.join(", ")}, and its resource policy denies execute-api:Invoke from anywhere else (aws:SourceVpce); whoever can reach those endpoints is trusted to call.`;

/** The cdk-nag acknowledgements a method's authorization needs under `auth`, each true under it. */
export function acknowledgeAuthorization(method: Method, open: boolean, auth: ApiAuth): void {
  const ack = (id: string, reason: string) => Validations.of(method).acknowledge({ id, reason });
  if (open) {
    const reason = `${method.httpMethod} ${method.resource.path} is open under every auth setting (open: true in lib/routes.ts): it serves what is built in code from the contract; its function has no table and holds no data.`;
    ack("AwsSolutions-APIG4", reason);
    ack("AwsSolutions-COG4", reason);
  } else if (auth.type === "none") {
    ack("AwsSolutions-APIG4", privateReason(auth));
    ack("AwsSolutions-COG4", privateReason(auth));
  } else if (auth.type === "iam") {
    ack(
      "AwsSolutions-COG4",
      "Authorized by IAM (SigV4, execute-api:Invoke) under training-sets:auth=iam, the default; a Cognito user pool authorizer is the cognito:<user pool ARN> setting.",
    );
  }
}

/** Browsers send a CORS preflight without credentials (Fetch standard): it stays open under every setting. */
export function acknowledgePreflight(method: Method): void {
  const reason =
    "CORS preflight (OPTIONS): browsers send it without credentials, so it cannot be authorized; its mock integration answers only the CORS headers, no data.";
  Validations.of(method).acknowledge({ id: "AwsSolutions-APIG4", reason }, { id: "AwsSolutions-COG4", reason });
}

/** Why a stage without a web ACL (training-sets:waf=off) is still guarded, true under `auth`. */
export function noWebAclReason(auth: ApiAuth): string {
  const access =
    auth.type === "none"
      ? privateReason(auth)
      : `Every method but the open ones requires authorization (training-sets:auth=${auth.type}).`;
  return `No web ACL: training-sets:waf=off was chosen explicitly. ${access} The stage stays throttled (throttleRateLimit, throttleBurstLimit).`;
}
