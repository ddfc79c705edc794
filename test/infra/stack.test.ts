import { readFileSync } from "node:fs";
import { App, RemovalPolicy } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { CfnTable } from "aws-cdk-lib/aws-dynamodb";
import type { CfnRule } from "aws-cdk-lib/aws-events";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import { TrainingSetsStack, type TrainingSetsStackProps } from "../../infra/training-sets-stack.ts";
import { FUNCTIONS, type FunctionName, ROUTES } from "../../lib/routes.ts";
import { TABLE } from "../../lib/table.ts";

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
  // `resolve(logicalId)`, not `getLogicalId`: the latter ignores overrideLogicalId.
  const functionId = (name: keyof typeof stack.functions): string =>
    stack.resolve((stack.functions[name].node.defaultChild as CfnFunction).logicalId);
  return { stack, template, resources, ofType, tableId, functionId };
}

const base = synth();

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

/** The DynamoDB actions a function's role allows, split into those on the table and those on its indexes. */
function grantsOf(fixture: ReturnType<typeof synth>, name: FunctionName) {
  const role = (fixture.resources[fixture.functionId(name)]!.Properties!.Role as { "Fn::GetAtt": [string, string] })[
    "Fn::GetAtt"
  ][0];
  const grants = { table: new Set<string>(), indexes: new Set<string>() };
  for (const [, policy] of fixture.ofType("AWS::IAM::Policy")) {
    const props = policy.Properties as { Roles: Json[]; PolicyDocument: { Statement: Statement[] } };
    if (!props.Roles.some((ref) => ref.Ref === role)) continue;
    for (const statement of props.PolicyDocument.Statement) {
      for (const resource of asList(statement.Resource)) {
        const target = JSON.stringify(resource).includes("/index/") ? grants.indexes : grants.table;
        for (const action of asList(statement.Action)) if (action.startsWith("dynamodb:")) target.add(action);
      }
    }
  }
  return { table: [...grants.table].sort(), indexes: [...grants.indexes].sort() };
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
    base.template.resourceCountIs("AWS::DynamoDB::Table", 1);
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
    const [, table] = base.ofType("AWS::DynamoDB::Table")[0] ?? [];
    expect(table?.Properties?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        ...slots.map((index) => ({ AttributeName: index.partitionKey, AttributeType: "S" })),
        ...slots.map((index) => ({ AttributeName: index.sortKey, AttributeType: "N" })),
      ]),
    );
  });

  it("has no hard-coded physical name", () => {
    const [, table] = base.ofType("AWS::DynamoDB::Table")[0] ?? [];
    expect(table?.Properties).not.toHaveProperty("TableName");
  });

  it("is retained on stack deletion and replacement by default", () => {
    base.template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("is deleted with the stack when removalPolicy is DESTROY, and so are the log groups", () => {
    const throwaway = synth({ removalPolicy: RemovalPolicy.DESTROY });
    throwaway.template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete" });
    for (const [, group] of throwaway.ofType("AWS::Logs::LogGroup")) expect(group.DeletionPolicy).toBe("Delete");
  });
});

describe("functions", () => {
  it("are one per route plus ResplitTasks, each on nodejs22.x, arm64, 1024 MB, with TABLE_NAME set to our table", () => {
    base.template.resourceCountIs("AWS::Lambda::Function", FUNCTIONS.length);
    for (const [, fn] of base.ofType("AWS::Lambda::Function")) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        MemorySize: 1024,
        Handler: "index.handler",
        Environment: { Variables: { TABLE_NAME: { Ref: base.tableId }, NODE_OPTIONS: "--enable-source-maps" } },
      });
      expect(fn.Properties).not.toHaveProperty("FunctionName");
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

  it("log to their own log group, kept for one month", () => {
    base.template.resourceCountIs("AWS::Logs::LogGroup", FUNCTIONS.length);
    base.template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
    const groups = new Set(
      base
        .ofType("AWS::Lambda::Function")
        .map(([, fn]) => JSON.stringify((fn.Properties!.LoggingConfig as Json).LogGroup)),
    );
    expect(groups.size).toBe(FUNCTIONS.length);
    for (const [id] of base.ofType("AWS::Logs::LogGroup")) expect(groups).toContain(JSON.stringify({ Ref: id }));
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

  it("answers an unknown route or method with 404 {code:1013} as JSON", () => {
    base.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
      ResponseType: "MISSING_AUTHENTICATION_TOKEN",
      StatusCode: "404",
      ResponseParameters: jsonHeader,
      ResponseTemplates: { "application/json": '{"code":1013,"msg":"接口不存在"}' },
    });
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

  it("outputs ApiUrl and TableName, and nothing else", () => {
    expect(Object.keys(base.template.toJSON().Outputs).sort()).toEqual(["ApiUrl", "TableName"]);
    base.template.hasOutput("TableName", { Value: { Ref: base.tableId } });
    base.template.hasOutput("ApiUrl", { Value: Match.objectLike({ "Fn::Join": Match.anyValue() }) });
  });
});

describe("permissions", () => {
  it("no IAM policy allows `*` or `dynamodb:*`, and every DynamoDB statement names only our table or its indexes", () => {
    const tableArn = { "Fn::GetAtt": [base.tableId, "Arn"] };
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
            // `${tableArn}/index/...`: a join of our table's ARN and an index suffix, nothing else.
            expect(join[0], where).toBe("");
            expect(join[1][0], where).toEqual(tableArn);
            expect(join[1].slice(1), where).toEqual([expect.stringMatching(/^\/index\/[\w.*-]+$/)]);
          } else {
            expect(resource, where).toEqual(tableArn);
          }
        }
      }
    }
    expect(dynamoStatements).toBeGreaterThan(0);
  });

  it("each function gets exactly the DynamoDB actions its operations use", () => {
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
    });
    expect(grantsOf(base, "ListSet")).toEqual({
      table: ["dynamodb:BatchGetItem", "dynamodb:GetItem"],
      indexes: ["dynamodb:Query"],
    });
    // a transaction's Put and Update actions are authorised as PutItem and UpdateItem
    expect(grantsOf(base, "RegisterImages")).toEqual({
      table: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      indexes: [],
    });
    // the OpenAPI document is built in code: no table access at all
    expect(grantsOf(base, "OpenApiDocument")).toEqual({ table: [], indexes: [] });
    // a re-split is a split: the same grants, nothing more
    expect(grantsOf(base, "ResplitTasks")).toEqual(grantsOf(base, "SplitTask"));
  });

  it("keep to our table when the schedule and CORS are configured too", () => {
    const full = synth({
      corsOrigins: ["https://label.example.com"],
      resplit: { schedule: "rate(1 day)", taskIds: ["2018062212345678911"] },
    });
    const tableArn = { "Fn::GetAtt": [full.tableId, "Arn"] };
    for (const { where, document } of policyDocuments(full.resources)) {
      for (const statement of asList(document.Statement as Statement | Statement[])) {
        const actions = asList(statement.Action);
        expect(actions, where).not.toContain("dynamodb:*");
        if (!actions.some((action) => action.startsWith("dynamodb:"))) continue;
        expect(JSON.stringify(statement.Resource), where).toContain(JSON.stringify(tableArn));
      }
    }
  });
});

describe("scheduled re-splits", () => {
  const taskIds = ["2018062212345678911", "2018072049434026765"];
  const scheduled = synth({ resplit: { schedule: "cron(0 3 * * ? *)", taskIds } });

  it("make no rule when no schedule is configured", () => {
    base.template.resourceCountIs("AWS::Events::Rule", 0);
    expect(base.stack.resplitRule).toBeUndefined();
    expect(
      base.ofType("AWS::Lambda::Permission").filter(([, p]) => p.Properties?.Principal === "events.amazonaws.com"),
    ).toEqual([]);
  });

  it("fire ResplitTasks on the configured schedule with exactly {task_ids}", () => {
    scheduled.template.resourceCountIs("AWS::Events::Rule", 1);
    scheduled.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "cron(0 3 * * ? *)",
      State: "ENABLED",
      Targets: [
        {
          Arn: { "Fn::GetAtt": ["ResplitTasks", "Arn"] },
          Id: Match.anyValue(),
          Input: JSON.stringify({ task_ids: taskIds }),
        },
      ],
    });
    const [, rule] = scheduled.ofType("AWS::Events::Rule")[0] ?? [];
    expect(rule?.Properties).not.toHaveProperty("Name");
  });

  it("let only that rule invoke ResplitTasks", () => {
    const ruleId: string = scheduled.stack.resolve(
      (scheduled.stack.resplitRule!.node.defaultChild as CfnRule).logicalId,
    );
    const permissions = scheduled
      .ofType("AWS::Lambda::Permission")
      .filter(([, p]) => p.Properties?.Principal === "events.amazonaws.com")
      .map(([, p]) => p.Properties);
    expect(permissions).toEqual([
      {
        Action: "lambda:InvokeFunction",
        FunctionName: { "Fn::GetAtt": ["ResplitTasks", "Arn"] },
        Principal: "events.amazonaws.com",
        SourceArn: { "Fn::GetAtt": [ruleId, "Arn"] },
      },
    ]);
  });
});
