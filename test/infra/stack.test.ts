import { readFileSync } from "node:fs";
import { App, RemovalPolicy, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { CfnTable } from "aws-cdk-lib/aws-dynamodb";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { CfnLogGroup } from "aws-cdk-lib/aws-logs";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { isOpen } from "../../infra/api-access.ts";
import { DEFAULTS } from "../../infra/defaults.ts";
import { IDEMPOTENCY_TABLE } from "../../infra/tables.ts";
import { TrainingSetsStack, type TrainingSetsStackProps } from "../../infra/training-sets-stack.ts";
import { FUNCTIONS, type FunctionName, ROUTES } from "../../lib/routes.ts";
import { TABLE } from "../../lib/store/table.ts";

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Json;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

// The feature flags of cdk.json, so the template under test is the one `npm run synth` makes.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

/** Builds the stack without bundling (not under test here) and returns it with its template. */
function synth(props: Partial<TrainingSetsStackProps> = {}) {
  const app = new App({ context: { ...cdkJson.context, "aws:cdk:bundling-stacks": [] } });
  const stack = new TrainingSetsStack(app, "TrainingSetsStack", {
    throttleRateLimit: 100,
    throttleBurstLimit: 200,
    ...props,
  });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const tableId = stack.getLogicalId(stack.table.node.defaultChild as CfnTable);
  const idempotencyTableId = stack.getLogicalId(stack.idempotencyTable.node.defaultChild as CfnTable);
  // `resolve(logicalId)`, not `getLogicalId`: the latter ignores overrideLogicalId.
  const functionId = (name: keyof typeof stack.functions): string =>
    stack.resolve((stack.functions[name].node.defaultChild as CfnFunction).logicalId);
  return { stack, template, resources, ofType, tableId, idempotencyTableId, functionId };
}

const base = synth();
const USER_POOL_ARN = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123";
const cognito = synth({ auth: { type: "cognito", userPoolArn: USER_POOL_ARN } });
const open = synth({ auth: { type: "none", vpcEndpointIds: ["vpce-0a1b2c3d4e5f60718"] } });

/** The properties of the gateway response of `type` (e.g. ACCESS_DENIED). */
function gatewayResponse(fixture: ReturnType<typeof synth>, type: string): Json {
  const found = fixture.ofType("AWS::ApiGateway::GatewayResponse").find(([, r]) => r.Properties?.ResponseType === type);
  expect(found, type).toBeDefined();
  return found![1].Properties!;
}

/** The logical id of the log group API Gateway writes the stage's execution logs to. */
const executionLogsId = (fixture: ReturnType<typeof synth>): string =>
  fixture.stack.getLogicalId(fixture.stack.node.findChild("ApiExecutionLogs").node.defaultChild as CfnLogGroup);

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

/** Every policy document in the template: managed and inline policies, and role trust policies. */
function policyDocuments(resources: Record<string, Resource>): { where: string; document: Json }[] {
  const found: { where: string; document: Json }[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === "AWS::IAM::Policy" || resource.Type === "AWS::IAM::ManagedPolicy") {
      found.push({ where: id, document: props.PolicyDocument as Json });
    }
    if (resource.Type === "AWS::IAM::Role") {
      found.push({ where: `${id} trust`, document: props.AssumeRolePolicyDocument as Json });
      for (const inline of (props.Policies as { PolicyDocument: Json }[] | undefined) ?? []) {
        found.push({ where: `${id} inline`, document: inline.PolicyDocument });
      }
    }
  }
  return found;
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

interface Statement {
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Effect: string;
}

/**
 * The DynamoDB actions a function's role allows, split into those on the table, those on its
 * indexes and those on the idempotency table.
 */
function grantsOf(fixture: ReturnType<typeof synth>, name: FunctionName) {
  const role = (fixture.resources[fixture.functionId(name)]!.Properties!.Role as { "Fn::GetAtt": [string, string] })[
    "Fn::GetAtt"
  ][0];
  const grants = { table: new Set<string>(), indexes: new Set<string>(), idempotency: new Set<string>() };
  for (const [, policy] of fixture.ofType("AWS::IAM::Policy")) {
    const props = policy.Properties as { Roles: Json[]; PolicyDocument: { Statement: Statement[] } };
    if (!props.Roles.some((ref) => ref.Ref === role)) continue;
    for (const statement of props.PolicyDocument.Statement) {
      for (const resource of asList(statement.Resource)) {
        const text = JSON.stringify(resource);
        const target = text.includes(fixture.idempotencyTableId)
          ? grants.idempotency
          : text.includes("/index/")
            ? grants.indexes
            : grants.table;
        for (const action of asList(statement.Action)) if (action.startsWith("dynamodb:")) target.add(action);
      }
    }
  }
  return {
    table: [...grants.table].sort(),
    indexes: [...grants.indexes].sort(),
    idempotency: [...grants.idempotency].sort(),
  };
}

describe("table", () => {
  it("is keyed by TABLE's partition and sort keys, both strings, and pays per request", () => {
    base.template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: TABLE.partitionKey, AttributeType: "S" },
        { AttributeName: TABLE.sortKey, AttributeType: "S" },
      ]),
      BillingMode: "PAY_PER_REQUEST",
    });
    // the service's table and the idempotency table
    base.template.resourceCountIs("AWS::DynamoDB::Table", 2);
  });

  it("has point-in-time recovery on", () => {
    base.template.hasResourceProperties("AWS::DynamoDB::Table", {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it("has exactly the order index of TABLE: (task#block S, order_id N), projecting only the listed attributes, and TTL on the expiry attribute", () => {
    const slots = [TABLE.orderIndex];
    base.template.hasResourceProperties("AWS::DynamoDB::Table", {
      TimeToLiveSpecification: { AttributeName: TABLE.expiryAttribute, Enabled: true },
    });
    base.template.hasResourceProperties("AWS::DynamoDB::Table", {
      GlobalSecondaryIndexes: slots.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" },
          { AttributeName: index.sortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...TABLE.projectedAttributes] },
      })),
    });
    const table = base.resources[base.tableId];
    expect(table?.Properties?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        ...slots.map((index) => ({ AttributeName: index.partitionKey, AttributeType: "S" })),
        ...slots.map((index) => ({ AttributeName: index.sortKey, AttributeType: "N" })),
      ]),
    );
  });

  it("has no hard-coded physical name", () => {
    for (const [id, table] of base.ofType("AWS::DynamoDB::Table"))
      expect(table.Properties, id).not.toHaveProperty("TableName");
  });

  it("is retained on stack deletion and replacement by default, and so is the idempotency table", () => {
    for (const id of [base.tableId, base.idempotencyTableId]) {
      expect(base.resources[id], id).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    }
  });

  it("is deleted with the stack when removalPolicy is DESTROY, and so are the idempotency table and the log groups", () => {
    const throwaway = synth({ removalPolicy: RemovalPolicy.DESTROY });
    for (const id of [throwaway.tableId, throwaway.idempotencyTableId]) {
      expect(throwaway.resources[id], id).toMatchObject({ DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete" });
    }
    for (const [, group] of throwaway.ofType("AWS::Logs::LogGroup")) expect(group.DeletionPolicy).toBe("Delete");
  });

  it("has the default on-demand maximum on the table and the order index, a configured one, or none when turned off", () => {
    const throughput = (fixture: ReturnType<typeof synth>) => {
      const props = fixture.resources[fixture.tableId]?.Properties as {
        OnDemandThroughput?: Json;
        GlobalSecondaryIndexes: { IndexName: string; OnDemandThroughput?: Json }[];
      };
      return [props.OnDemandThroughput, ...props.GlobalSecondaryIndexes.map((gsi) => gsi.OnDemandThroughput)];
    };
    const defaults = {
      MaxReadRequestUnits: DEFAULTS.tableMaxReadRequestUnits,
      MaxWriteRequestUnits: DEFAULTS.tableMaxWriteRequestUnits,
    };
    expect(throughput(base)).toEqual([defaults, defaults]);
    const limit = { MaxReadRequestUnits: 4000, MaxWriteRequestUnits: 1500 };
    expect(throughput(synth({ tableMaxReadRequestUnits: 4000, tableMaxWriteRequestUnits: 1500 }))).toEqual([
      limit,
      limit,
    ]);
    expect(throughput(synth({ tableMaxReadRequestUnits: false, tableMaxWriteRequestUnits: false }))).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe("functions", () => {
  it("are one per route plus ResplitTasks, each on nodejs24.x, arm64, 1024 MB; TABLE_NAME only on those that are not open", () => {
    base.template.resourceCountIs("AWS::Lambda::Function", FUNCTIONS.length);
    for (const fn of FUNCTIONS) {
      const props = base.resources[fn.name]?.Properties;
      expect(props, fn.name).toMatchObject({
        Runtime: "nodejs24.x",
        Architectures: ["arm64"],
        MemorySize: 1024,
        Handler: "index.handler",
        Environment: { Variables: { NODE_OPTIONS: "--enable-source-maps" } },
      });
      // CloudFormation names them all but the run function, whose ARN the schedule writers are given (schedules.test.ts)
      if (fn.name !== "ResplitTasks") expect(props, fn.name).not.toHaveProperty("FunctionName");
      const variables = (props!.Environment as { Variables: Json }).Variables;
      if (isOpen(fn)) expect(variables, fn.name).not.toHaveProperty("TABLE_NAME");
      else expect(variables.TABLE_NAME, fn.name).toEqual({ Ref: base.tableId });
    }
  });

  it("have their name as logical id: API functions stop at 29 s (API Gateway's limit), ResplitTasks at 15 min", () => {
    for (const route of ROUTES) {
      expect(base.functionId(route.name)).toBe(route.name);
      expect(base.resources[route.name]?.Properties?.Timeout, route.name).toBe(29);
    }
    expect(base.functionId("ResplitTasks")).toBe("ResplitTasks");
    expect(base.resources.ResplitTasks?.Properties?.Timeout).toBe(900);
  });

  it("set CORS_ORIGINS on the API functions only when origins are configured", () => {
    const variables = (fixture: ReturnType<typeof synth>, name: FunctionName) =>
      (fixture.resources[name]!.Properties!.Environment as { Variables: Json }).Variables;
    const cors = synth({ corsOrigins: ["https://label.example.com", "https://admin.example.com"] });
    for (const route of ROUTES) {
      expect(variables(base, route.name)).not.toHaveProperty("CORS_ORIGINS");
      expect(variables(cors, route.name).CORS_ORIGINS).toBe("https://label.example.com,https://admin.example.com");
    }
    expect(variables(cors, "ResplitTasks")).not.toHaveProperty("CORS_ORIGINS");
  });

  it("log to their own log group, kept for one month (as are the API's access and execution logs)", () => {
    base.template.resourceCountIs("AWS::Logs::LogGroup", FUNCTIONS.length + 2);
    base.template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
    const groups = new Set(
      base
        .ofType("AWS::Lambda::Function")
        .map(([, fn]) => JSON.stringify((fn.Properties!.LoggingConfig as Json).LogGroup)),
    );
    expect(groups.size).toBe(FUNCTIONS.length);
    const api = new Set([
      base.stack.getLogicalId(base.stack.accessLogs.node.defaultChild as CfnLogGroup),
      executionLogsId(base),
    ]);
    for (const [id] of base.ofType("AWS::Logs::LogGroup")) {
      if (!api.has(id)) expect(groups).toContain(JSON.stringify({ Ref: id }));
    }
  });

  it("have their own role with no AWS managed policy; it may write to the function's log group, not create groups", () => {
    for (const fn of FUNCTIONS) {
      const role =
        base.resources[(base.resources[fn.name]!.Properties!.Role as { "Fn::GetAtt": [string] })["Fn::GetAtt"][0]];
      expect(role?.Properties, fn.name).not.toHaveProperty("ManagedPolicyArns");
    }
    const logActions = policyDocuments(base.resources).flatMap(({ document }) =>
      asList(document.Statement as Statement | Statement[]).flatMap((statement) =>
        asList(statement.Action).filter((action) => action.startsWith("logs:")),
      ),
    );
    expect(new Set(logActions)).toEqual(new Set(["logs:CreateLogStream", "logs:PutLogEvents"]));
  });

  it("get the idempotency table (IDEMPOTENCY_TABLE) only on the routes that take an Idempotency-Key", () => {
    for (const fn of FUNCTIONS) {
      const variables = (base.resources[fn.name]!.Properties!.Environment as { Variables: Json }).Variables;
      if (fn.idempotent) expect(variables.IDEMPOTENCY_TABLE, fn.name).toEqual({ Ref: base.idempotencyTableId });
      else expect(variables, fn.name).not.toHaveProperty("IDEMPOTENCY_TABLE");
    }
    expect(FUNCTIONS.filter((fn) => fn.idempotent).map((fn) => fn.name)).toEqual([
      "SplitTask",
      "RegisterImages",
      "DeleteImages",
    ]);
  });

  it("reserve concurrency for SplitTask and ResplitTasks by default, as configured, or not when turned off; no other function", () => {
    const reservedOf = (fixture: ReturnType<typeof synth>) =>
      Object.fromEntries(
        FUNCTIONS.flatMap((fn) => {
          const value = fixture.resources[fn.name]?.Properties?.ReservedConcurrentExecutions;
          return value === undefined ? [] : [[fn.name, value]];
        }),
      );
    expect(reservedOf(base)).toEqual({
      SplitTask: DEFAULTS.splitReservedConcurrency,
      ResplitTasks: DEFAULTS.resplitReservedConcurrency,
    });
    expect(reservedOf(synth({ splitReservedConcurrency: 10, resplitReservedConcurrency: 1 }))).toEqual({
      SplitTask: 10,
      ResplitTasks: 1,
    });
    expect(reservedOf(synth({ splitReservedConcurrency: false, resplitReservedConcurrency: false }))).toEqual({});
  });
});

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

describe("permissions", () => {
  it("no IAM policy allows `*` or `dynamodb:*`, and every DynamoDB statement names only our tables or the order index", () => {
    const tableArn = { "Fn::GetAtt": [base.tableId, "Arn"] };
    const idempotencyArn = { "Fn::GetAtt": [base.idempotencyTableId, "Arn"] };
    const documents = policyDocuments(base.resources);
    expect(documents.length).toBeGreaterThan(0);
    let dynamoStatements = 0;
    for (const { where, document } of documents) {
      for (const statement of asList(document.Statement as Statement | Statement[])) {
        expect(statement.NotAction, where).toBeUndefined();
        expect(statement.NotResource, where).toBeUndefined();
        const actions = asList(statement.Action);
        for (const action of actions) {
          expect(action, where).not.toBe("*");
          expect(action.toLowerCase(), where).not.toBe("dynamodb:*");
          if (action.toLowerCase().startsWith("dynamodb:")) expect(action, where).not.toContain("*");
        }
        if (!actions.some((action) => action.toLowerCase().startsWith("dynamodb:"))) continue;
        dynamoStatements++;
        for (const resource of asList(statement.Resource)) {
          const join = (resource as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
          if (join) {
            // `${tableArn}/index/<name>`: our table's ARN and the order index by name, never `index/*`.
            expect(join[0], where).toBe("");
            expect(join[1][0], where).toEqual(tableArn);
            expect(join[1].slice(1), where).toEqual([`/index/${TABLE.orderIndex.indexName}`]);
          } else {
            expect([tableArn, idempotencyArn], where).toContainEqual(resource);
          }
        }
      }
    }
    expect(dynamoStatements).toBeGreaterThan(0);
  });

  it("each function gets exactly the DynamoDB actions its operations use", () => {
    // Powertools' idempotency store: read, create conditionally, complete, delete on failure
    const idempotencyStore = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"];
    // a split never reads the order index: it plans from strongly consistent Queries of the table
    expect(grantsOf(base, "SplitTask")).toEqual({
      table: [
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ],
      indexes: [],
      idempotency: idempotencyStore,
    });
    // the summary Queries the tombstones on the table; pages read only the order index
    expect(grantsOf(base, "ListSet")).toEqual({
      table: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"],
      indexes: ["dynamodb:Query"],
      idempotency: [],
    });
    // a transaction's Put and Update actions are authorised as PutItem and UpdateItem
    expect(grantsOf(base, "RegisterImages")).toEqual({
      table: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      indexes: [],
      idempotency: idempotencyStore,
    });
    // the OpenAPI document is built in code: no table access at all
    expect(grantsOf(base, "OpenApiDocument")).toEqual({ table: [], indexes: [], idempotency: [] });
    // a re-split is a split on the table (not keyed by a caller: no idempotency table)
    expect(grantsOf(base, "ResplitTasks")).toEqual({ ...grantsOf(base, "SplitTask"), idempotency: [] });
  });

  it("keep to our table when CORS is configured too", () => {
    const full = synth({ corsOrigins: ["https://label.example.com"] });
    const tableArn = JSON.stringify({ "Fn::GetAtt": [full.tableId, "Arn"] });
    const idempotencyArn = JSON.stringify({ "Fn::GetAtt": [full.idempotencyTableId, "Arn"] });
    for (const { where, document } of policyDocuments(full.resources)) {
      for (const statement of asList(document.Statement as Statement | Statement[])) {
        const actions = asList(statement.Action);
        expect(actions, where).not.toContain("dynamodb:*");
        if (!actions.some((action) => action.startsWith("dynamodb:"))) continue;
        const resource = JSON.stringify(statement.Resource);
        expect(resource.includes(tableArn) || resource.includes(idempotencyArn), where).toBe(true);
      }
    }
  });
});

describe("re-splits", () => {
  it("run only on the tasks' own schedules: no EventBridge rule, and no events.amazonaws.com permission", () => {
    base.template.resourceCountIs("AWS::Events::Rule", 0);
    expect(
      base.ofType("AWS::Lambda::Permission").filter(([, p]) => p.Properties?.Principal === "events.amazonaws.com"),
    ).toEqual([]);
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
      ProviderARNs: [USER_POOL_ARN],
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

describe("alarms and dashboard", () => {
  type Alarm = Json & { AlarmActions: Json[]; OKActions: Json[]; Metrics?: Json[] };
  const alarms = Object.fromEntries(
    base.ofType("AWS::CloudWatch::Alarm").map(([id, alarm]) => [id, alarm.Properties as Alarm]),
  );
  const alarmOf = (construct: string): Alarm => {
    const found = base.stack.monitoring.alarms[construct];
    expect(found, construct).toBeDefined();
    return alarms[base.stack.getLogicalId(found!.node.defaultChild as never)] as Alarm;
  };
  const topicId = () => base.ofType("AWS::SNS::Topic").map(([id]) => id)[0];

  it("watch the API's 5xx share and its p99 latency against the 29 s limit, on stage v1", () => {
    expect(alarmOf("Api5xxRate")).toMatchObject({
      Namespace: "AWS/ApiGateway",
      MetricName: "5XXError",
      Statistic: "Average",
      Threshold: 0.05,
      // by API name (one per stage: dev's and prod's metrics stay apart) and stage v1
      Dimensions: [
        { Name: "ApiName", Value: "TrainingSets-dev" },
        {
          Name: "Stage",
          Value: { Ref: base.stack.getLogicalId(base.stack.api.deploymentStage.node.defaultChild as never) },
        },
      ],
    });
    base.template.hasResourceProperties("AWS::ApiGateway::Stage", { StageName: "v1" });
    const latency = alarmOf("ApiLatencyP99");
    expect(latency).toMatchObject({ MetricName: "Latency", ExtendedStatistic: "p99", Threshold: 25000 });
    expect(latency.Threshold as number).toBeLessThan(29_000);
  });

  it("watch each function's errors and throttles", () => {
    for (const fn of FUNCTIONS) {
      for (const [construct, metric] of [
        [`${fn.name}Errors`, "Errors"],
        [`${fn.name}Throttles`, "Throttles"],
      ]) {
        expect(alarmOf(construct!), construct).toMatchObject({
          Namespace: "AWS/Lambda",
          MetricName: metric,
          Statistic: "Sum",
          Threshold: 1,
          Dimensions: [{ Name: "FunctionName", Value: { Ref: fn.name } }],
        });
      }
    }
  });

  it("watch sustained DynamoDB throttling on the table, the order index and the idempotency table", () => {
    const dimensionsOf = (construct: string) => {
      const alarm = alarmOf(construct);
      expect(alarm, construct).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1 });
      const metrics = (alarm.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: Json[] } } }[])
        .filter((metric) => metric.MetricStat)
        .map((metric) => metric.MetricStat!.Metric);
      expect(metrics.map((metric) => metric.MetricName).sort()).toEqual(["ReadThrottleEvents", "WriteThrottleEvents"]);
      return metrics[0]!.Dimensions;
    };
    expect(dimensionsOf("TableThrottles")).toEqual([{ Name: "TableName", Value: { Ref: base.tableId } }]);
    expect(dimensionsOf("OrderIndexThrottles")).toEqual(
      expect.arrayContaining([
        { Name: "TableName", Value: { Ref: base.tableId } },
        { Name: "GlobalSecondaryIndexName", Value: TABLE.orderIndex.indexName },
      ]),
    );
    expect(dimensionsOf("IdempotencyTableThrottles")).toEqual([
      { Name: "TableName", Value: { Ref: base.idempotencyTableId } },
    ]);
  });

  it("watch the idempotency store's DynamoDB server errors on each operation it uses", () => {
    type Stat = { MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] } } };
    const metrics = (alarmOf("IdempotencyTableErrors").Metrics as Stat[]).flatMap((m) =>
      m.MetricStat ? [m.MetricStat.Metric] : [],
    );
    expect(metrics.map((metric) => metric.MetricName)).toEqual(Array(4).fill("SystemErrors"));
    const operations = metrics.map((metric) => metric.Dimensions.find((d) => d.Name === "Operation")?.Value);
    expect(operations.sort()).toEqual(["DeleteItem", "GetItem", "PutItem", "UpdateItem"]);
    for (const metric of metrics) {
      expect(metric.Dimensions).toContainEqual({ Name: "TableName", Value: { Ref: base.idempotencyTableId } });
    }
  });

  it("are all of the above (2 API, 2 per function, 4 DynamoDB, 1 schedules), and each notifies the SNS topic on alarm and on recovery", () => {
    expect(Object.keys(alarms)).toHaveLength(2 + 2 * FUNCTIONS.length + 4 + 1);
    for (const [id, alarm] of Object.entries(alarms)) {
      expect(alarm.AlarmActions, id).toEqual([{ Ref: topicId() }]);
      expect(alarm.OKActions, id).toEqual([{ Ref: topicId() }]);
      expect(alarm.TreatMissingData, id).toBe("notBreaching");
    }
  });

  it("mail the topic's subscriber only when an alarm email is configured; the topic refuses plain HTTP", () => {
    base.template.resourceCountIs("AWS::SNS::Subscription", 0);
    const mailed = synth({ alarmEmail: "oncall@example.com" });
    mailed.template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "oncall@example.com",
    });
    base.template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("have a dashboard named after the stage", () => {
    base.template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    base.template.hasResourceProperties("AWS::CloudWatch::Dashboard", { DashboardName: "TrainingSets-dev" });
    synth({ stage: "prod" }).template.hasResourceProperties("AWS::CloudWatch::Dashboard", {
      DashboardName: "TrainingSets-prod",
    });
  });
});

describe("the idempotency table", () => {
  it("is keyed by id (S), expires on `expiration`, pays per request, and is its own table", () => {
    const props = base.resources[base.idempotencyTableId]?.Properties;
    expect(props).toMatchObject({
      KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      TimeToLiveSpecification: { AttributeName: "expiration", Enabled: true },
      BillingMode: "PAY_PER_REQUEST",
    });
    expect(base.stack.idempotencyTable).not.toBe(base.stack.table);
  });
});

describe("cdk-nag AwsSolutions", () => {
  /** Every acknowledgement in the stack: rule id, reason and the construct it is on. */
  const acknowledgements = (fixture: ReturnType<typeof synth>) =>
    fixture.stack.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
            id: id.replace(/^annotation::/i, ""),
            reason,
            path: construct.node.path,
          })),
        ),
    );
  const report = (fixture: ReturnType<typeof synth>) =>
    new AwsSolutionsChecks().validateScope(fixture.stack).violations.map((violation) => ({
      rule: violation.ruleName,
      at: violation.violatingResources.map((resource) => resource.constructPath),
    }));

  it("report nothing unacknowledged for the default (iam) setting", () => {
    expect(report(base)).toEqual([]);
  });

  it("report nothing unacknowledged under cognito, none, or with CORS and an alarm address either", () => {
    expect(report(cognito)).toEqual([]);
    expect(report(open)).toEqual([]);
    const full = synth({
      corsOrigins: ["https://label.example.com"],
      alarmEmail: "oncall@example.com",
    });
    expect(report(full)).toEqual([]);
  });

  it("are acknowledged only where allowed, each with a reason; never access logs, execution logs, managed policies, nor wildcards but the schedules'", () => {
    const acks = acknowledgements(base);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.reason.trim().length, `${ack.id} at ${ack.path}`).toBeGreaterThan(40);
    const ids = new Set(acks.map((ack) => ack.id.replace(/\[.*$/, "")));
    expect([...ids].sort()).toEqual(
      [
        "AwsSolutions-APIG2", // validation stays in the functions (legacy messages and rule order)
        "AwsSolutions-APIG4", // the open routes only (below)
        "AwsSolutions-COG4", // IAM, not Cognito, under `iam`
        "AwsSolutions-DDB3", // no PITR on the idempotency table
        "AwsSolutions-IAM5", // the group's schedules, named per task (below)
        "AwsSolutions-SNS2", // alarms cannot publish to an SNS-managed-key topic
        "AwsSolutions-SQS3", // the dead-letter queue is one itself
      ].sort(),
    );
    const wildcards = new Set(acks.filter((ack) => ack.id.startsWith("AwsSolutions-IAM5")).map((ack) => ack.id));
    expect([...wildcards]).toEqual([
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/TrainingSetsStack/*]",
    ]);
    // authorization is acknowledged on the open routes' methods only
    const apig4 = acks.filter((ack) => ack.id === "AwsSolutions-APIG4");
    expect(apig4.map((ack) => ack.path).sort()).toEqual(
      ROUTES.filter(isOpen)
        .map((route) => base.stack.methods[route.name]!.node.path)
        .sort(),
    );
    for (const ack of apig4) expect(ack.reason).toMatch(/has no table and holds no data/);
  });

  it("find a method left without authorization", () => {
    // the check can fail: a stack with one more, unauthorized method is reported (APIG4 and COG4)
    const probe = synth();
    probe.stack.api.root.addResource("probe").addMethod("GET");
    const rules = report(probe).map((violation) => violation.rule);
    expect(rules).toContain("AwsSolutions-APIG4");
    expect(rules).toContain("AwsSolutions-COG4");
  });
});
