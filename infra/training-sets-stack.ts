import {
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
  Tags,
  Validations,
} from "aws-cdk-lib";
import {
  AccessLogFormat,
  CognitoUserPoolsAuthorizer,
  Cors,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  RestApi,
} from "aws-cdk-lib/aws-apigateway";
import { UserPool } from "aws-cdk-lib/aws-cognito";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import type { Key } from "aws-cdk-lib/aws-kms";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import {
  FUNCTIONS,
  type FunctionName,
  JOBS,
  type Job,
  ROUTES,
  type Route,
  TABLE_ACCESS,
  timeoutSeconds,
} from "../lib/routes.ts";
import { TABLE } from "../lib/store/table.ts";
import {
  type ApiAuth,
  acknowledgeAuthorization,
  acknowledgePreflight,
  checkTenancy,
  defaultTenancyMode,
  endpointOf,
  isOpen,
  methodOptionsOf,
  noWebAclReason,
  type Tenancy,
} from "./api-access.ts";
import { DEFAULTS } from "./defaults.ts";
import { addGatewayResponses, EXPOSED_HEADERS } from "./gateway-responses.ts";
import { Monitoring } from "./monitoring.ts";
import { TaskSchedules } from "./schedules.ts";
import { ServiceFunction, type ServiceFunctionProps } from "./service-function.ts";
import { SettingError } from "./setting-error.ts";
import { addTables } from "./tables.ts";
import { StageWebAcl } from "./web-acl.ts";

export interface TrainingSetsStackProps extends StackProps {
  /** The stage this stack is (`dev`, `prod`, …): tags, the dashboard's and the alarms' names. */
  readonly stage?: string;
  /** Secure by default: IAM unless told otherwise; `none` only on a private endpoint. */
  readonly auth?: ApiAuth;
  /** Whose tasks a request sees; by default `claim` (custom:tenant) under Cognito, `off` otherwise. */
  readonly tenancy?: Tenancy;
  /** RETAIN keeps the tables (and logs) when the stack goes; DESTROY is for throwaway stages. */
  readonly removalPolicy?: RemovalPolicy.RETAIN | RemovalPolicy.DESTROY;
  /** DynamoDB deletion protection on both tables; by default on unless removalPolicy is DESTROY. */
  readonly deletionProtection?: boolean;
  /** `customer-managed`: both tables encrypted with a KMS key of the stack's own; default AWS owned. */
  readonly tableEncryption?: "aws-owned" | "customer-managed";
  /** Steady-state requests per second the v1 stage accepts. */
  readonly throttleRateLimit: number;
  /** Requests the v1 stage accepts in a burst above the rate. */
  readonly throttleBurstLimit: number;
  /** A web ACL on the stage, with this many requests per client IP in 5 minutes (on by default); `false`: none. */
  readonly waf?: { readonly rateLimit: number } | false;
  /** Browser origins allowed to call the API; empty means no CORS at all. */
  readonly corsOrigins?: readonly string[];
  /** When set, the alarm topic mails this address. */
  readonly alarmEmail?: string;
  /** Reserved concurrency of SplitTask: at most this many splits at once (a cost and load guard); `false`: none. */
  readonly splitReservedConcurrency?: number | false;
  /** Reserved concurrency of ResplitTasks; `false`: none. */
  readonly resplitReservedConcurrency?: number | false;
  /** The table's (and its order index's) on-demand maximum read request units per second; `false`: none. */
  readonly tableMaxReadRequestUnits?: number | false;
  /** The table's (and its order index's) on-demand maximum write request units per second; `false`: none. */
  readonly tableMaxWriteRequestUnits?: number | false;
  /** Creates API Gateway's account-wide CloudWatch logging role (off: the account must have one). */
  readonly cloudWatchRole?: boolean;
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

/** The function every task schedule invokes. */
const RUN_FUNCTION = "ResplitTasks" satisfies FunctionName;

/** The stage every deployment goes to. */
const STAGE_NAME = "v1";

/**
 * The service: one table, one function per route, one REST API (v1 proxy integrations) in front,
 * secured by default; the run function of the tasks' schedules, with their schedule group, role and
 * dead-letter queue; the idempotency table of the keyed routes; alarms, their topic and a dashboard.
 */
export class TrainingSetsStack extends Stack {
  readonly table: Table;
  readonly idempotencyTable: Table;
  /** The customer managed key of both tables, under tableEncryption `customer-managed`. */
  readonly tableKey: Key | undefined;
  readonly api: RestApi;
  readonly functions: Record<FunctionName, ServiceFunction>;
  /** Each route's API method, by function name. */
  readonly methods: Partial<Record<FunctionName, Method>>;
  /** The schedule group, the Scheduler role and the dead-letter queue of the tasks' own schedules. */
  readonly schedules: TaskSchedules;
  readonly webAcl: StageWebAcl | undefined;
  readonly monitoring: Monitoring;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: TrainingSetsStackProps) {
    super(scope, id, props);
    const stage = props.stage ?? "dev";
    const auth: ApiAuth = props.auth ?? { type: "iam" };
    const tenancy: Tenancy = props.tenancy ?? { mode: defaultTenancyMode(auth), claim: DEFAULTS.tenantClaim };
    checkTenancy(auth, tenancy);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deletionProtection = props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY;
    if (deletionProtection && removalPolicy === RemovalPolicy.DESTROY) {
      throw new SettingError(
        "training-sets:deletionProtection must be off with training-sets:removalPolicy=destroy (the stack could not delete its tables)",
      );
    }
    const waf = props.waf ?? { rateLimit: DEFAULTS.wafRateLimit };
    Tags.of(this).add("training-sets:stage", stage);

    const tables = addTables(this, {
      removalPolicy,
      deletionProtection,
      encryption: props.tableEncryption ?? "aws-owned",
      maxReadRequestUnits: props.tableMaxReadRequestUnits ?? DEFAULTS.tableMaxReadRequestUnits,
      maxWriteRequestUnits: props.tableMaxWriteRequestUnits ?? DEFAULTS.tableMaxWriteRequestUnits,
    });
    this.table = tables.table;
    this.idempotencyTable = tables.idempotencyTable;
    this.tableKey = tables.encryptionKey;
    const index = TABLE.orderIndex;

    const corsOrigins = props.corsOrigins ?? [];
    this.accessLogs = new LogGroup(this, "ApiAccessLogs", { retention: RetentionDays.ONE_MONTH, removalPolicy });
    this.api = new RestApi(this, "Api", {
      // The API's metrics are by name and stage: one name per stage keeps dev's and prod's apart.
      restApiName: `TrainingSets-${stage}`,
      description: `training-sets (${stage}): split a task's images into training, verifying and testing sets`,
      ...endpointOf(this, auth),
      // The account-wide API Gateway logging role: made only when asked (docs/operations.md "Deploy").
      cloudWatchRole: props.cloudWatchRole ?? false,
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
              allowHeaders: [...Cors.DEFAULT_HEADERS, "Idempotency-Key"],
              exposeHeaders: [...EXPOSED_HEADERS],
            },
          }
        : {}),
    });
    if (props.cloudWatchRole) {
      Validations.of(this.api.node.findChild("CloudWatchRole")).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        reason:
          "API Gateway's account-wide logging role, made only under training-sets:cloudWatchRole=on: AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it, and API Gateway alone can assume the role.",
      });
    }
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
    this.webAcl = waf
      ? new StageWebAcl(this, "WebAcl", {
          stage: this.api.deploymentStage,
          metricPrefix: `TrainingSets-${stage}`,
          rateLimit: waf.rateLimit,
        })
      : undefined;
    if (!waf)
      Validations.of(this.api.deploymentStage).acknowledge({ id: "AwsSolutions-APIG3", reason: noWebAclReason(auth) });

    const authorizer =
      auth.type === "cognito"
        ? new CognitoUserPoolsAuthorizer(this, "Authorizer", {
            cognitoUserPools: [UserPool.fromUserPoolArn(this, "UserPool", auth.userPoolArn)],
          })
        : undefined;

    const reserved: Partial<Record<FunctionName, number | false>> = {
      SplitTask: props.splitReservedConcurrency ?? DEFAULTS.splitReservedConcurrency,
      ResplitTasks: props.resplitReservedConcurrency ?? DEFAULTS.resplitReservedConcurrency,
    };
    const functions: Partial<Record<FunctionName, ServiceFunction>> = {};
    const addFunction = (fn: Route | Job, functionProps: ServiceFunctionProps) => {
      const open = isOpen(fn);
      const concurrency = reserved[fn.name];
      const created = new ServiceFunction(this, fn.name, {
        ...functionProps,
        environment: {
          ...functionProps.environment,
          // The open functions hold no data: no table, only the auth setting their document declares.
          ...(open ? { API_AUTH: auth.type } : { TENANCY: tenancy.mode, TENANT_CLAIM: tenancy.claim }),
        },
        ...(concurrency ? { reservedConcurrentExecutions: concurrency } : {}),
        logRemovalPolicy: removalPolicy,
      });
      // The function's name is its logical id, so `sam local invoke <name>` and docs/operations.md stay readable.
      (created.node.defaultChild as CfnFunction).overrideLogicalId(fn.name);
      if (!open) created.bindTable(this.table, TABLE_ACCESS[fn.name], [index.indexName]);
      functions[fn.name] = created;
      return created;
    };
    this.methods = {};
    for (const route of ROUTES) {
      const fn = addFunction(route, {
        entry: route.entry,
        description: `${route.method} ${route.path}`,
        timeout: Duration.seconds(timeoutSeconds(route)),
        environment: corsOrigins.length > 0 ? { CORS_ORIGINS: corsOrigins.join(",") } : {},
      });
      if (route.idempotent) fn.bindIdempotencyTable(this.idempotencyTable);
      const method = this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, new LambdaIntegration(fn), methodOptionsOf(auth, isOpen(route), authorizer));
      this.methods[route.name] = method;
      acknowledgeAuthorization(method, isOpen(route), auth);
    }
    // The run function is named: its ARN is a setting of the functions that write schedules, itself included.
    const runFunctionName = `${this.stackName}-${RUN_FUNCTION}`;
    for (const job of JOBS) {
      addFunction(job, {
        entry: job.entry,
        description: job.description,
        timeout: Duration.seconds(timeoutSeconds(job)),
        ...(job.name === RUN_FUNCTION ? { functionName: runFunctionName } : {}),
      });
    }
    this.functions = functions as Record<FunctionName, ServiceFunction>;
    this.schedules = new TaskSchedules(this, "TaskSchedules", {
      runFunction: this.functions[RUN_FUNCTION],
      runFunctionArn: this.formatArn({
        service: "lambda",
        resource: "function",
        resourceName: runFunctionName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    });
    for (const writer of FUNCTIONS.filter((fn) => "scheduler" in fn && fn.scheduler)) {
      this.schedules.allowWriting(this.functions[writer.name]);
    }
    for (const method of this.api.methods.filter((candidate) => candidate.httpMethod === "OPTIONS")) {
      acknowledgePreflight(method);
    }

    addGatewayResponses(this.api, auth, { corsOrigins, wafRateLimit: waf ? waf.rateLimit : undefined });

    this.monitoring = new Monitoring(this, "Monitoring", {
      stage,
      apiStage: this.api.deploymentStage,
      functions: this.functions,
      table: this.table,
      orderIndexName: index.indexName,
      idempotencyTable: this.idempotencyTable,
      schedules: { groupName: this.schedules.groupName, deadLetterQueue: this.schedules.deadLetterQueue },
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
    new CfnOutput(this, "ScheduleDeadLetterQueueUrl", {
      value: this.schedules.deadLetterQueue.queueUrl,
      description: "The queue of scheduled runs that failed or never ran",
    });
  }
}
