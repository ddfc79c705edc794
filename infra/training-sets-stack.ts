import { CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps, Tags, Validations } from "aws-cdk-lib";
import {
  AccessLogFormat,
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  Cors,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  type MethodOptions,
  ResponseType,
  RestApi,
} from "aws-cdk-lib/aws-apigateway";
import { UserPool } from "aws-cdk-lib/aws-cognito";
import { AttributeType, BillingMode, ProjectionType, Table } from "aws-cdk-lib/aws-dynamodb";
import { Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { type ErrorCode, ServiceError } from "../lib/errors.ts";
import { type FunctionName, JOBS, ROUTES, TABLE_ACCESS, timeoutSeconds } from "../lib/routes.ts";
import { TABLE } from "../lib/store/table.ts";
import { Monitoring } from "./monitoring.ts";
import { ServiceFunction, type ServiceFunctionProps } from "./service-function.ts";

/**
 * How callers authenticate. `iam`: every method but the open ones requires a SigV4-signed request
 * from a principal allowed `execute-api:Invoke`; `cognito`: a Cognito user pool ID token in
 * `Authorization`; `none`: nothing, chosen explicitly (a private stage behind something else).
 */
export type ApiAuth =
  | { readonly type: "iam" }
  | { readonly type: "cognito"; readonly userPoolArn: string }
  | { readonly type: "none" };

export interface TrainingSetsStackProps extends StackProps {
  /** The stage this stack is (`dev`, `prod`, …): tags, the dashboard's and the alarms' names. */
  readonly stage?: string;
  /** Secure by default: IAM unless told otherwise. */
  readonly auth?: ApiAuth;
  /** RETAIN keeps the tables (and logs) when the stack goes; DESTROY is for throwaway stages. */
  readonly removalPolicy?: RemovalPolicy.RETAIN | RemovalPolicy.DESTROY;
  /** Steady-state requests per second the v1 stage accepts. */
  readonly throttleRateLimit: number;
  /** Requests the v1 stage accepts in a burst above the rate. */
  readonly throttleBurstLimit: number;
  /** Browser origins allowed to call the API; empty means no CORS at all. */
  readonly corsOrigins?: readonly string[];
  /** When set, an EventBridge rule re-splits these tasks on this schedule (`rate(…)` or `cron(…)`). */
  readonly resplit?: { readonly schedule: string; readonly taskIds: readonly string[] };
  /** When set, the alarm topic mails this address. */
  readonly alarmEmail?: string;
  /** Reserved concurrency of SplitTask: at most this many splits at once (a cost and load guard). */
  readonly splitReservedConcurrency?: number;
  /** The table's (and its order index's) on-demand maximum read request units per second. */
  readonly tableMaxReadRequestUnits?: number;
  /** The table's (and its order index's) on-demand maximum write request units per second. */
  readonly tableMaxWriteRequestUnits?: number;
}

/**
 * Routes that stay open under every auth setting. The OpenAPI document is the API's contract,
 * built in code: it holds no data and reads no table. Every other route is secured by default.
 */
const OPEN_ROUTES: ReadonlySet<FunctionName> = new Set<FunctionName>(["OpenApiDocument"]);

/** The idempotency table's keys: one record a key (lib/http/idempotency.ts). */
export const IDEMPOTENCY_TABLE = { partitionKey: "id", expiryAttribute: "expiration" } as const;

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** A gateway response body in the service's `{code,msg}` shape, message from the one error catalogue. */
const gatewayBody = (code: ErrorCode, extra: { requestId?: boolean; detail?: string } = {}): string => {
  const body: Record<string, unknown> = { code, msg: new ServiceError(code).message };
  // Gateway response templates may use $context variables: the caller gets an id to quote, as with the functions' 1500s.
  if (extra.requestId) body.request_id = "$context.requestId";
  if (extra.detail !== undefined) body.detail = extra.detail;
  // `$context.error.messageString` is already a quoted JSON string: it goes in unquoted.
  return JSON.stringify(body).replace('"$context.error.messageString"', "$context.error.messageString");
};

interface GatewayResponseRow {
  id: string;
  type: ResponseType;
  statusCode?: string;
  body: string;
  /** Extra headers, values as API Gateway wants them (static values in single quotes). */
  headers?: Record<string, string>;
}

/** The gateway's own English reason for a refusal, e.g. "The security token included in the request is expired". */
const GATEWAY_REASON = "$context.error.messageString";

/**
 * What API Gateway answers by itself, reshaped to `{code,msg}` so that nothing but the service's
 * JSON ever reaches the caller. Without a statusCode the gateway's own status is kept. Refusals
 * are code 1027: 401 when credentials are missing or expired (with `WWW-Authenticate` naming the
 * scheme), 403 when they are invalid or not allowed.
 */
function gatewayResponses(auth: ApiAuth): readonly GatewayResponseRow[] {
  const scheme = auth.type === "iam" ? "AWS4-HMAC-SHA256" : auth.type === "cognito" ? "Bearer" : undefined;
  const challenge = scheme ? { "WWW-Authenticate": `'${scheme}'` } : undefined;
  const refused = gatewayBody(1027, { requestId: true, detail: GATEWAY_REASON });
  return [
    // A REST API answers an unknown path, or a known path with an unknown method, with 403 "Missing
    // Authentication Token". Under IAM an unsigned request to a real route gets the same answer,
    // and API Gateway cannot tell the two apart: both are 1027 there, with a detail that says so.
    auth.type === "iam"
      ? {
          id: "UnknownRoute",
          type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
          statusCode: "403",
          body: gatewayBody(1027, {
            requestId: true,
            detail:
              "Missing Authentication Token: the request is not SigV4-signed, or no route has this path and method (API Gateway cannot tell the two apart under IAM authorization)",
          }),
        }
      : {
          id: "UnknownRoute",
          type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
          statusCode: "404",
          body: gatewayBody(1013),
        },
    // Cognito: no token, or one the authorizer rejects.
    { id: "Unauthorized", type: ResponseType.UNAUTHORIZED, statusCode: "401", body: refused, headers: challenge },
    // IAM: the signing credentials' session token has expired.
    { id: "ExpiredToken", type: ResponseType.EXPIRED_TOKEN, statusCode: "401", body: refused, headers: challenge },
    // IAM: the signature does not match (wrong secret, wrong region, altered request).
    { id: "InvalidSignature", type: ResponseType.INVALID_SIGNATURE, statusCode: "403", body: refused },
    // IAM: a valid signature from a principal not allowed execute-api:Invoke here.
    { id: "AccessDenied", type: ResponseType.ACCESS_DENIED, statusCode: "403", body: refused },
    { id: "RequestTooLarge", type: ResponseType.REQUEST_TOO_LARGE, statusCode: "413", body: gatewayBody(1014) },
    // Stage throttling is the server side running out of room: retryable, like storage throttling (1500/503).
    { id: "Throttled", type: ResponseType.THROTTLED, statusCode: "503", body: gatewayBody(1500, { requestId: true }) },
    { id: "Default4xx", type: ResponseType.DEFAULT_4XX, body: gatewayBody(1013) },
    { id: "Default5xx", type: ResponseType.DEFAULT_5XX, body: gatewayBody(1500, { requestId: true }) },
  ];
}

/** One JSON line per request in the stage's access log. Every value quoted: a missing one is "-". */
const ACCESS_LOG_FIELDS = {
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTimeEpoch",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  path: "$context.path",
  status: "$context.status",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  ip: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  // who called: the IAM principal (SigV4), or the Cognito user's sub
  caller: "$context.identity.userArn",
  cognitoSub: "$context.authorizer.claims.sub",
  errorType: "$context.error.responseType",
  error: "$context.error.message",
} as const;

/** The stage every deployment goes to. */
const STAGE_NAME = "v1";

/**
 * The service: one table, one function per route, one REST API (v1 proxy integrations) in front,
 * secured by default; the re-split function, on an EventBridge schedule when one is configured;
 * the idempotency table of the keyed routes; alarms, their topic and a dashboard.
 */
export class TrainingSetsStack extends Stack {
  readonly table: Table;
  readonly idempotencyTable: Table;
  readonly api: RestApi;
  readonly functions: Record<FunctionName, ServiceFunction>;
  /** Each route's API method, by function name. */
  readonly methods: Partial<Record<FunctionName, Method>>;
  readonly resplitRule: Rule | undefined;
  readonly monitoring: Monitoring;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: TrainingSetsStackProps) {
    super(scope, id, props);
    const stage = props.stage ?? "dev";
    const auth: ApiAuth = props.auth ?? { type: "iam" };
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    Tags.of(this).add("training-sets:stage", stage);

    // Cost guards: on demand, but never past these request units per second (unset: no maximum).
    const maxThroughput = {
      ...(props.tableMaxReadRequestUnits ? { maxReadRequestUnits: props.tableMaxReadRequestUnits } : {}),
      ...(props.tableMaxWriteRequestUnits ? { maxWriteRequestUnits: props.tableMaxWriteRequestUnits } : {}),
    };
    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      ...maxThroughput,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only retired or dead snapshot items carry it (docs/design.md "Expiry, never of a live snapshot").
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
      // Every image write is an index write too: the same guard, or the index would be the way round it.
      ...maxThroughput,
    });

    // Its own table: one TTL attribute per table, and hot keys kept off the tasks' partitions.
    this.idempotencyTable = new Table(this, "IdempotencyTable", {
      partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: IDEMPOTENCY_TABLE.expiryAttribute,
      removalPolicy,
    });
    Validations.of(this.idempotencyTable).acknowledge({
      id: "AwsSolutions-DDB3",
      reason:
        "No point-in-time recovery on the idempotency table: its records live only for the idempotency window (1 hour by default), and a restore makes a new table, by which time every record in it would have expired.",
    });

    const corsOrigins = props.corsOrigins ?? [];
    this.accessLogs = new LogGroup(this, "ApiAccessLogs", { retention: RetentionDays.ONE_MONTH, removalPolicy });
    this.api = new RestApi(this, "Api", {
      // The API's metrics are by name and stage: one name per stage keeps dev's and prod's apart.
      restApiName: `TrainingSets-${stage}`,
      description: `training-sets (${stage}): split a task's images into training, verifying and testing sets`,
      endpointTypes: [EndpointType.REGIONAL],
      // The account-wide API Gateway logging role is not this service's to own (docs/operations.md "Deploy").
      cloudWatchRole: false,
      // Answers of 1 KiB or more are gzipped for callers that accept it (a 5,000-image page is ~500 KB of JSON).
      minCompressionSize: Size.kibibytes(1),
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        // Execution logs at ERROR: why the gateway refused or failed a request, never bodies.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
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
    // API Gateway writes execution logs to this name; made here, it is kept a month, not forever.
    const executionLogs = new LogGroup(this, "ApiExecutionLogs", {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${STAGE_NAME}`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);
    Validations.of(this.api).acknowledge({
      id: "AwsSolutions-APIG2",
      reason:
        "Request validation stays in the functions: they answer the legacy platform's exact Chinese messages and codes in the contract's rule order (body, task_id, then each field), which an API Gateway request validator would pre-empt with its own 400.",
    });
    Validations.of(this.api.deploymentStage).acknowledge({
      id: "AwsSolutions-APIG3",
      reason:
        "No WAF web ACL: every method but the open OpenAPI document requires authorization and the stage is throttled; a web ACL costs about 5 USD a month plus per rule and per request, at rest, per stage. Attach one to the stage when the API faces browsers.",
    });

    const authorizer =
      auth.type === "cognito"
        ? new CognitoUserPoolsAuthorizer(this, "Authorizer", {
            cognitoUserPools: [UserPool.fromUserPoolArn(this, "UserPool", auth.userPoolArn)],
          })
        : undefined;
    const methodOptions = (name: FunctionName): MethodOptions => {
      if (OPEN_ROUTES.has(name) || auth.type === "none") return { authorizationType: AuthorizationType.NONE };
      if (auth.type === "iam") return { authorizationType: AuthorizationType.IAM };
      return { authorizationType: AuthorizationType.COGNITO, authorizer };
    };

    const functions: Partial<Record<FunctionName, ServiceFunction>> = {};
    const addFunction = (name: FunctionName, props: ServiceFunctionProps) => {
      const fn = new ServiceFunction(this, name, { ...props, logRemovalPolicy: removalPolicy });
      // The function's name is its logical id, so `sam local invoke <name>` and docs/operations.md stay readable.
      (fn.node.defaultChild as CfnFunction).overrideLogicalId(name);
      fn.bindTable(this.table, TABLE_ACCESS[name], [index.indexName]);
      functions[name] = fn;
      return fn;
    };
    this.methods = {};
    for (const route of ROUTES) {
      const fn = addFunction(route.name, {
        entry: route.entry,
        description: `${route.method} ${route.path}`,
        timeout: Duration.seconds(timeoutSeconds(route)),
        environment: corsOrigins.length > 0 ? { CORS_ORIGINS: corsOrigins.join(",") } : {},
        ...(route.name === "SplitTask" && props.splitReservedConcurrency !== undefined
          ? { reservedConcurrentExecutions: props.splitReservedConcurrency }
          : {}),
      });
      if (route.idempotent) fn.bindIdempotencyTable(this.idempotencyTable);
      const method = this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, new LambdaIntegration(fn), methodOptions(route.name));
      this.methods[route.name] = method;
      acknowledgeAuthorization(method, route.name, auth);
    }
    for (const job of JOBS) {
      addFunction(job.name, {
        entry: job.entry,
        description: job.description,
        timeout: Duration.seconds(timeoutSeconds(job)),
      });
    }
    this.functions = functions as Record<FunctionName, ServiceFunction>;
    // Browsers send a CORS preflight without credentials (Fetch standard): it must stay open.
    for (const method of this.api.methods.filter((candidate) => candidate.httpMethod === "OPTIONS")) {
      const reason =
        "CORS preflight (OPTIONS): browsers send it without credentials, so it cannot be authorized; its mock integration answers only the CORS headers, no data.";
      Validations.of(method).acknowledge({ id: "AwsSolutions-APIG4", reason }, { id: "AwsSolutions-COG4", reason });
    }

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

    for (const response of gatewayResponses(auth)) {
      this.api.addGatewayResponse(response.id, {
        type: response.type,
        ...(response.statusCode ? { statusCode: response.statusCode } : {}),
        responseHeaders: { "Content-Type": `'${JSON_CONTENT_TYPE}'`, ...response.headers },
        templates: { "application/json": response.body },
      });
    }

    this.monitoring = new Monitoring(this, "Monitoring", {
      stage,
      apiStage: this.api.deploymentStage,
      functions: this.functions,
      table: this.table,
      orderIndexName: index.indexName,
      idempotencyTable: this.idempotencyTable,
      alarmEmail: props.alarmEmail,
    });

    // RestApi adds its own "Endpoint" output; ApiUrl below is the one name callers and scripts use.
    this.api.node.tryRemoveChild("Endpoint");
    new CfnOutput(this, "ApiUrl", { value: this.api.url, description: "Base URL of the v1 stage" });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "IdempotencyTableName", { value: this.idempotencyTable.tableName });
    new CfnOutput(this, "ExecuteApiArn", {
      value: this.api.arnForExecuteApi("*", "/*", STAGE_NAME),
      description: "The Resource of an IAM policy allowing execute-api:Invoke on every route of the v1 stage",
    });
    new CfnOutput(this, "AlarmTopicArn", { value: this.monitoring.topic.topicArn });
  }
}

/** The cdk-nag acknowledgements a method's authorization needs under `auth`, each with its reason. */
function acknowledgeAuthorization(method: Method, name: FunctionName, auth: ApiAuth): void {
  const ack = (id: string, reason: string) => Validations.of(method).acknowledge({ id, reason });
  if (OPEN_ROUTES.has(name)) {
    const reason = `${method.httpMethod} ${method.resource.path} is open under every auth setting: it serves the API's OpenAPI document, built in code from the contract; it holds no data and reads no table.`;
    ack("AwsSolutions-APIG4", reason);
    ack("AwsSolutions-COG4", reason);
  } else if (auth.type === "none") {
    const reason =
      "training-sets:auth=none was chosen explicitly: a private stage behind something else that authenticates callers (docs/operations.md, Deploy).";
    ack("AwsSolutions-APIG4", reason);
    ack("AwsSolutions-COG4", reason);
  } else if (auth.type === "iam") {
    ack(
      "AwsSolutions-COG4",
      "Authorized by IAM (SigV4, execute-api:Invoke) under training-sets:auth=iam, the default; a Cognito user pool authorizer is the cognito:<user pool ARN> setting.",
    );
  }
}
