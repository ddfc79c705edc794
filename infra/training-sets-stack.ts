import { type App, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import { Cors, EndpointType, LambdaIntegration, ResponseType, RestApi } from "aws-cdk-lib/aws-apigateway";
import { AttributeType, BillingMode, ProjectionType, Table } from "aws-cdk-lib/aws-dynamodb";
import { Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { type ErrorCode, ServiceError } from "../lib/errors.ts";
import { type FunctionName, JOBS, ROUTES, timeoutSeconds } from "../lib/routes.ts";
import { TABLE } from "../lib/table.ts";
import { readOptions } from "./options.ts";
import { ServiceFunction, type ServiceFunctionProps, type TableAccess } from "./service-function.ts";

export interface TrainingSetsStackProps extends StackProps {
  /** RETAIN keeps the table (and logs) when the stack goes; DESTROY is for throwaway stages. */
  readonly removalPolicy?: RemovalPolicy.RETAIN | RemovalPolicy.DESTROY;
  /** Steady-state requests per second the v1 stage accepts. */
  readonly throttleRateLimit: number;
  /** Requests the v1 stage accepts in a burst above the rate. */
  readonly throttleBurstLimit: number;
  /** Browser origins allowed to call the API; empty means no CORS at all. */
  readonly corsOrigins?: readonly string[];
  /** When set, an EventBridge rule re-splits these tasks on this schedule (`rate(…)` or `cron(…)`). */
  readonly resplit?: { readonly schedule: string; readonly taskIds: readonly string[] };
}

/**
 * What each function does to the table, from lib/store/. Keyed by function name, so a new
 * function does not compile until its grant is written down.
 */
export const TABLE_ACCESS: Record<FunctionName, TableAccess> = {
  // read the task item and every image (Query), the live snapshot's chunks (BatchGetItem); write the
  // run item and the chunks; publish and expire old snapshots (UpdateItem); find dead runs (Query)
  SplitTask: { table: ["GetItem", "Query", "BatchGetItem", "PutItem", "BatchWriteItem", "UpdateItem"], indexes: [] },
  // read the task item and the snapshot's chunks, then the page's images from the order index
  ListSet: { table: ["GetItem", "BatchGetItem"], indexes: ["Query"] },
  // look up known images, allocate order_ids and update known images (UpdateItem), create new
  // ones with the count in a transaction (its Put and Update actions), read the count back
  RegisterImages: { table: ["BatchGetItem", "UpdateItem", "PutItem", "GetItem"], indexes: [] },
  // serves the OpenAPI document, built in code: no table
  OpenApiDocument: { table: [], indexes: [] },
  // read the last split's request from the task item, then exactly what SplitTask does
  ResplitTasks: { table: ["GetItem", "Query", "BatchGetItem", "PutItem", "BatchWriteItem", "UpdateItem"], indexes: [] },
};

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** A gateway response body in the service's `{code,msg}` shape, message from the one error catalogue. */
const gatewayBody = (code: ErrorCode, withRequestId = false): string => {
  const body: Record<string, unknown> = { code, msg: new ServiceError(code).message };
  // Gateway response templates may use $context variables: the caller gets an id to quote, as with the functions' 1500s.
  if (withRequestId) body.request_id = "$context.requestId";
  return JSON.stringify(body);
};

/**
 * What API Gateway answers by itself, reshaped to `{code,msg}` so that nothing but the service's
 * JSON ever reaches the caller. Without a statusCode the gateway's own status is kept.
 */
export const GATEWAY_RESPONSES: readonly {
  id: string;
  type: ResponseType;
  statusCode?: string;
  body: string;
}[] = [
  // A REST API answers an unknown path, or a known path with an unknown method, with 403 "Missing Authentication Token".
  { id: "UnknownRoute", type: ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: "404", body: gatewayBody(1013) },
  { id: "RequestTooLarge", type: ResponseType.REQUEST_TOO_LARGE, statusCode: "413", body: gatewayBody(1014) },
  // Stage throttling is the server side running out of room: retryable, like storage throttling (1500/503).
  { id: "Throttled", type: ResponseType.THROTTLED, statusCode: "503", body: gatewayBody(1500, true) },
  { id: "Default4xx", type: ResponseType.DEFAULT_4XX, body: gatewayBody(1013) },
  { id: "Default5xx", type: ResponseType.DEFAULT_5XX, body: gatewayBody(1500, true) },
];

/**
 * The service: one table, one function per route, one REST API (v1 proxy integrations) in front,
 * and the re-split function, on an EventBridge schedule when one is configured.
 */
export class TrainingSetsStack extends Stack {
  readonly table: Table;
  readonly api: RestApi;
  readonly functions: Record<FunctionName, ServiceFunction>;
  readonly resplitRule: Rule | undefined;

  constructor(scope: Construct, id: string, props: TrainingSetsStackProps) {
    super(scope, id, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only retired or dead snapshot items carry it (SPEC "Expiry, never of a live snapshot").
      timeToLiveAttribute: TABLE.expiryAttribute,
      removalPolicy,
    });
    const index = TABLE.orderIndex;
    this.table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.NUMBER },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...TABLE.projectedAttributes],
    });

    const corsOrigins = props.corsOrigins ?? [];
    this.api = new RestApi(this, "Api", {
      description: "training-sets: split a task's images into training, verifying and testing sets",
      endpointTypes: [EndpointType.REGIONAL],
      // The account-wide API Gateway logging role is not this service's to own.
      cloudWatchRole: false,
      deployOptions: {
        stageName: "v1",
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
      },
      ...(corsOrigins.length > 0
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: [...corsOrigins],
              allowMethods: [...new Set(ROUTES.map((route) => route.method))],
              allowHeaders: Cors.DEFAULT_HEADERS,
            },
          }
        : {}),
    });

    const functions: Partial<Record<FunctionName, ServiceFunction>> = {};
    const addFunction = (name: FunctionName, props: ServiceFunctionProps) => {
      const fn = new ServiceFunction(this, name, { ...props, logRemovalPolicy: removalPolicy });
      // The function's name is its logical id, so `sam local invoke <name>` and the README stay readable.
      (fn.node.defaultChild as CfnFunction).overrideLogicalId(name);
      fn.bindTable(this.table, TABLE_ACCESS[name]);
      functions[name] = fn;
      return fn;
    };
    for (const route of ROUTES) {
      const fn = addFunction(route.name, {
        entry: route.entry,
        description: `${route.method} ${route.path}`,
        timeout: Duration.seconds(timeoutSeconds(route)),
        environment: corsOrigins.length > 0 ? { CORS_ORIGINS: corsOrigins.join(",") } : {},
      });
      this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(fn));
    }
    for (const job of JOBS) {
      addFunction(job.name, {
        entry: job.entry,
        description: job.description,
        timeout: Duration.seconds(timeoutSeconds(job)),
      });
    }
    this.functions = functions as Record<FunctionName, ServiceFunction>;

    // No schedule configured, no rule: the function is still there to invoke by hand.
    this.resplitRule = props.resplit
      ? new Rule(this, "ResplitSchedule", {
          description: `training-sets: re-split ${props.resplit.taskIds.length} task(s) on ${props.resplit.schedule}`,
          schedule: Schedule.expression(props.resplit.schedule),
          // The function receives exactly {"task_ids":[…]} (the input replaces the scheduled event).
          targets: [
            new LambdaFunction(this.functions.ResplitTasks, {
              event: RuleTargetInput.fromObject({ task_ids: [...props.resplit.taskIds] }),
            }),
          ],
        })
      : undefined;

    for (const response of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(response.id, {
        type: response.type,
        ...(response.statusCode ? { statusCode: response.statusCode } : {}),
        responseHeaders: { "Content-Type": `'${JSON_CONTENT_TYPE}'` },
        templates: { "application/json": response.body },
      });
    }

    // RestApi adds its own "Endpoint" output; ApiUrl below is the one name callers and scripts use.
    this.api.node.tryRemoveChild("Endpoint");
    new CfnOutput(this, "ApiUrl", { value: this.api.url, description: "Base URL of the v1 stage" });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
  }
}

/** The construct id of the stack; `cdk synth` writes its template to cdk.out/<id>.template.json. */
export const STACK_ID = "TrainingSetsStack";

/** The stack as `cdk synth` and `cdk deploy` make it, with the options from the app's CDK context. */
export function addTrainingSetsStack(app: App): TrainingSetsStack {
  // Environment-agnostic (no `env`): synth needs no account, region or credentials.
  return new TrainingSetsStack(app, STACK_ID, {
    stackName: "TrainingSets",
    description: "training-sets: random training/verifying/testing split of a task's images",
    ...readOptions((key) => app.node.tryGetContext(key)),
  });
}
