import type { CfnLogGroup } from "aws-cdk-lib/aws-logs";
import { describe, expect, it } from "vitest";
import { isOpen } from "../../infra/api-access.ts";
import { DEFAULTS } from "../../infra/defaults.ts";
import { FUNCTIONS, type FunctionName, ROUTES } from "../../lib/routes.ts";
import { TABLE } from "../../lib/store/table.ts";
import { executionLogsId, type Json, type Resource, synth } from "./stack-fixture.ts";

const base = synth();

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
    // the Idempotency-Key records (lib/http/key-records.ts): read, create conditionally, complete, release
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
    // a transaction's Put, Update and Delete actions are authorised as PutItem, UpdateItem and DeleteItem
    expect(grantsOf(base, "RegisterImages")).toEqual({
      table: [
        "dynamodb:BatchGetItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ],
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
