import { Match } from "aws-cdk-lib/assertions";
import type { CfnLogGroup } from "aws-cdk-lib/aws-logs";
import { describe, expect, it } from "vitest";
import { isOpen } from "../../infra/api-access.ts";
import { ROUTES } from "../../lib/routes.ts";
import { COGNITO, executionLogsId, type Json, type Resource, synth } from "./stack-fixture.ts";

const base = synth();
const cognito = synth({ auth: COGNITO });
const open = synth({ auth: { type: "none", vpcEndpointIds: ["vpce-0a1b2c3d4e5f60718"] } });

/** The properties of the gateway response of `type` (e.g. ACCESS_DENIED). */
function gatewayResponse(fixture: ReturnType<typeof synth>, type: string): Json {
  const found = fixture.ofType("AWS::ApiGateway::GatewayResponse").find(([, r]) => r.Properties?.ResponseType === type);
  expect(found, type).toBeDefined();
  return found![1].Properties!;
}

/** The full path of an API Gateway resource (a Ref to it, or the API's root), walking ParentId up to the root. */
function resourcePath(resources: Record<string, Resource>, ref: Json): string {
  const id = ref.Ref as string | undefined;
  if (id === undefined) return "/"; // Fn::GetAtt [api, RootResourceId]
  const props = resources[id]?.Properties as { ParentId: Json; PathPart: string };
  const parent = resourcePath(resources, props.ParentId);
  return `${parent === "/" ? "" : parent}/${props.PathPart}`;
}

/** Each API method as "METHOD /path" with its CloudFormation properties. */
function methods(fixture: ReturnType<typeof synth>) {
  return fixture.ofType("AWS::ApiGateway::Method").map(([, method]) => {
    const props = method.Properties as { HttpMethod: string; ResourceId: Json; Integration: Json };
    return { route: `${props.HttpMethod} ${resourcePath(fixture.resources, props.ResourceId)}`, props };
  });
}

describe("API", () => {
  it("has one method per route, with the route's HTTP method and path, and nothing else", () => {
    expect(
      methods(base)
        .map((method) => method.route)
        .sort(),
    ).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
  });

  it("sends each route to its own function through a Lambda proxy integration", () => {
    for (const route of ROUTES) {
      const method = methods(base).find((candidate) => candidate.route === `${route.method} ${route.path}`);
      expect(method?.props.Integration).toMatchObject({ Type: "AWS_PROXY", IntegrationHttpMethod: "POST" });
      const uri = method?.props.Integration.Uri as { "Fn::Join": [string, unknown[]] };
      expect(uri["Fn::Join"][1]).toContainEqual({ "Fn::GetAtt": [base.functionId(route.name), "Arn"] });
    }
  });

  it("has no CORS preflight when no origins are configured", () => {
    expect(methods(base).filter((method) => method.props.HttpMethod === "OPTIONS")).toEqual([]);
  });

  it("answers CORS preflight on every route's path for the configured origins", () => {
    const cors = synth({ corsOrigins: ["https://label.example.com"] });
    for (const path of new Set(ROUTES.map((route) => route.path))) {
      const preflight = methods(cors).find((method) => method.route === `OPTIONS ${path}`);
      expect(preflight, path).toBeDefined();
      expect(JSON.stringify(preflight?.props.Integration)).toContain("https://label.example.com");
    }
  });

  it("deploys stage v1 throttled at the configured rate and burst", () => {
    const throttled = synth({ throttleRateLimit: 25, throttleBurstLimit: 50 });
    throttled.template.hasResourceProperties("AWS::ApiGateway::Stage", {
      StageName: "v1",
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: "*", ResourcePath: "/*", ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 }),
      ]),
    });
  });

  it("does not take over the account-wide API Gateway CloudWatch role", () => {
    base.template.resourceCountIs("AWS::ApiGateway::Account", 0);
  });

  const jsonHeader = { "gatewayresponse.header.Content-Type": "'application/json; charset=utf-8'" };

  it("answers an unknown route or method with 404 {code:1013} as JSON, where the gateway can tell (not under IAM)", () => {
    for (const fixture of [cognito, open]) {
      fixture.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
        ResponseType: "MISSING_AUTHENTICATION_TOKEN",
        StatusCode: "404",
        ResponseParameters: jsonHeader,
        ResponseTemplates: { "application/json": '{"code":1013,"msg":"接口不存在"}' },
      });
    }
  });

  it("under IAM answers Missing Authentication Token (unsigned, or no such route: the same to API Gateway) with 403 {code:1027}", () => {
    const response = gatewayResponse(base, "MISSING_AUTHENTICATION_TOKEN");
    expect(response).toMatchObject({ StatusCode: "403", ResponseParameters: jsonHeader });
    const body = JSON.parse((response.ResponseTemplates as Json)["application/json"] as string);
    expect(body).toMatchObject({ code: 1027, msg: "未授权的请求", request_id: "$context.requestId" });
    expect(body.detail).toMatch(/not SigV4-signed, or no route/);
  });

  it("answers refused credentials with {code:1027}: 401 + WWW-Authenticate when missing or expired, 403 when invalid or denied", () => {
    const expected = { UNAUTHORIZED: "401", EXPIRED_TOKEN: "401", INVALID_SIGNATURE: "403", ACCESS_DENIED: "403" };
    for (const [fixture, scheme] of [
      [base, "'AWS4-HMAC-SHA256'"],
      [cognito, "'Bearer'"],
    ] as const) {
      for (const [type, status] of Object.entries(expected)) {
        const response = gatewayResponse(fixture, type);
        expect(response.StatusCode, type).toBe(status);
        const template = (response.ResponseTemplates as Json)["application/json"] as string;
        // the gateway's own reason goes in as `detail`; $context.error.messageString is already a JSON string
        expect(template, type).toBe(
          '{"code":1027,"msg":"未授权的请求","request_id":"$context.requestId","detail":$context.error.messageString}',
        );
        const headers = response.ResponseParameters as Json;
        expect(headers["gatewayresponse.header.Content-Type"], type).toBe("'application/json; charset=utf-8'");
        expect(headers["gatewayresponse.header.WWW-Authenticate"], type).toBe(status === "401" ? scheme : undefined);
      }
    }
  });

  it("answers any other gateway 4xx with {code:1013} as JSON, keeping the gateway's status", () => {
    base.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
      ResponseType: "DEFAULT_4XX",
      StatusCode: Match.absent(),
      ResponseParameters: jsonHeader,
      ResponseTemplates: { "application/json": '{"code":1013,"msg":"接口不存在"}' },
    });
  });

  it("answers a body too large for the gateway with 413 {code:1014} as JSON", () => {
    base.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
      ResponseType: "REQUEST_TOO_LARGE",
      StatusCode: "413",
      ResponseParameters: jsonHeader,
      ResponseTemplates: { "application/json": '{"code":1014,"msg":"请求体过大"}' },
    });
  });

  it("answers gateway throttling and gateway 5xx with {code:1500} and the request id, as JSON", () => {
    const body = '{"code":1500,"msg":"服务器内部错误，请稍后重试","request_id":"$context.requestId"}';
    base.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
      ResponseType: "THROTTLED",
      StatusCode: "503",
      ResponseParameters: jsonHeader,
      ResponseTemplates: { "application/json": body },
    });
    base.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
      ResponseType: "DEFAULT_5XX",
      StatusCode: Match.absent(),
      ResponseParameters: jsonHeader,
      ResponseTemplates: { "application/json": body },
    });
  });

  it("outputs ApiUrl, the table names, the ARN to allow in an IAM policy, the alarm topic and the schedules' dead-letter queue, and nothing else", () => {
    expect(Object.keys(base.template.toJSON().Outputs).sort()).toEqual([
      "AlarmTopicArn",
      "ApiUrl",
      "ExecuteApiArn",
      "IdempotencyTableName",
      "ScheduleDeadLetterQueueUrl",
      "TableName",
    ]);
    base.template.hasOutput("TableName", { Value: { Ref: base.tableId } });
    base.template.hasOutput("IdempotencyTableName", { Value: { Ref: base.idempotencyTableId } });
    base.template.hasOutput("ApiUrl", { Value: Match.objectLike({ "Fn::Join": Match.anyValue() }) });
    // arn:<partition>:execute-api:<region>:<account>:<api id>/v1/*/*
    const arn = JSON.stringify(base.template.toJSON().Outputs.ExecuteApiArn.Value);
    expect(arn).toContain(":execute-api:");
    expect(arn).toContain('"/v1/*/*"');
  });

  it("gzips answers of 1 KiB or more", () => {
    base.template.hasResourceProperties("AWS::ApiGateway::RestApi", { MinimumCompressionSize: 1024 });
  });

  it("writes one JSON access log line per request to its own log group, and execution logs at ERROR without bodies", () => {
    const accessLogsId = base.stack.getLogicalId(base.stack.accessLogs.node.defaultChild as CfnLogGroup);
    const [, stage] = base.ofType("AWS::ApiGateway::Stage")[0] ?? [];
    const setting = stage?.Properties?.AccessLogSetting as { DestinationArn: Json; Format: string };
    expect(setting.DestinationArn).toEqual({ "Fn::GetAtt": [accessLogsId, "Arn"] });
    const line = JSON.parse(setting.Format) as Record<string, string>;
    expect(line).toMatchObject({
      requestId: "$context.requestId",
      status: "$context.status",
      resourcePath: "$context.resourcePath",
      caller: "$context.identity.userArn",
      responseLatency: "$context.responseLatency",
    });
    expect(stage?.Properties?.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: "*", ResourcePath: "/*", LoggingLevel: "ERROR", DataTraceEnabled: false }),
    ]);
    // API Gateway's execution log group, made by the stack so that it is kept a month, not forever
    const execution = base.resources[executionLogsId(base)]?.Properties;
    expect(JSON.stringify(execution?.LogGroupName)).toContain("API-Gateway-Execution-Logs_");
    expect(JSON.stringify(execution?.LogGroupName)).toContain("/v1");
  });
});

describe("authorization", () => {
  /** Each method's authorization as "METHOD /path": type, and the authorizer it names if any. */
  const authorization = (fixture: ReturnType<typeof synth>) =>
    Object.fromEntries(
      methods(fixture).map((method) => {
        const props = method.props as unknown as { AuthorizationType: string; AuthorizerId?: Json };
        return [method.route, { type: props.AuthorizationType, authorizer: props.AuthorizerId }];
      }),
    );
  const OPEN = ROUTES.filter(isOpen).map((route) => `${route.method} ${route.path}`);
  const secured = ROUTES.map((route) => `${route.method} ${route.path}`).filter((route) => !OPEN.includes(route));

  it("leaves open exactly the routes marked open: the OpenAPI document among them", () => {
    expect(OPEN).toContain("GET /openapi.json");
    expect(secured.length).toBeGreaterThan(0);
  });

  it("is IAM (SigV4) by default on every method but the open ones, which stay open", () => {
    const found = authorization(base);
    expect(Object.keys(found).sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of secured) expect(found[route], route).toEqual({ type: "AWS_IAM", authorizer: undefined });
    for (const route of OPEN) expect(found[route], route).toEqual({ type: "NONE", authorizer: undefined });
    base.template.resourceCountIs("AWS::ApiGateway::Authorizer", 0);
  });

  it("is a Cognito user pool authorizer on every method but the open ones under cognito:<user pool ARN>", () => {
    cognito.template.resourceCountIs("AWS::ApiGateway::Authorizer", 1);
    cognito.template.hasResourceProperties("AWS::ApiGateway::Authorizer", {
      Type: "COGNITO_USER_POOLS",
      ProviderARNs: [COGNITO.userPoolArn],
      IdentitySource: "method.request.header.Authorization",
    });
    const authorizerId = cognito.ofType("AWS::ApiGateway::Authorizer")[0]?.[0];
    const found = authorization(cognito);
    for (const route of secured) {
      expect(found[route], route).toEqual({ type: "COGNITO_USER_POOLS", authorizer: { Ref: authorizerId } });
    }
    for (const route of OPEN) expect(found[route], route).toEqual({ type: "NONE", authorizer: undefined });
  });

  it("is nothing on any method only when `none` is chosen", () => {
    for (const [route, found] of Object.entries(authorization(open))) {
      expect(found, route).toEqual({ type: "NONE", authorizer: undefined });
    }
    open.template.resourceCountIs("AWS::ApiGateway::Authorizer", 0);
  });

  it("keeps CORS preflight open (browsers send it without credentials), and the routes secured", () => {
    const cors = synth({ corsOrigins: ["https://label.example.com"] });
    const found = authorization(cors);
    for (const path of new Set(ROUTES.map((route) => route.path))) {
      expect(found[`OPTIONS ${path}`], path).toEqual({ type: "NONE", authorizer: undefined });
    }
    for (const route of secured) expect(found[route], route).toEqual({ type: "AWS_IAM", authorizer: undefined });
  });
});
