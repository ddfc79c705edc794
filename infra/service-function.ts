import { join } from "node:path";
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { TableAccess, TableAction } from "../lib/routes.ts";
import { PROJECT_ROOT } from "../scripts/project-root.ts";
import { BUNDLING } from "./bundling.ts";

/**
 * What the idempotency middleware (lib/http/idempotency.ts) does to its table: read a record, create it
 * conditionally, name its split, complete it or take it over, and delete it when the request
 * changed nothing.
 */
const IDEMPOTENCY_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem"] as const;

/**
 * What DynamoDB does with a table's customer managed key on a caller's behalf when it reads or writes
 * an item; allowed only through DynamoDB (kms:ViaService), never for calling KMS directly.
 */
const TABLE_KEY_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"] as const;

export interface ServiceFunctionProps {
  /** Handler file relative to the project root, e.g. `functions/split-task.ts` (from FUNCTIONS). */
  readonly entry: string;
  /** A physical name, for a function whose ARN must be known before it exists; by default CloudFormation names it. */
  readonly functionName?: string;
  readonly description?: string;
  /** API functions default to 29 s, API Gateway's integration timeout: a longer run would answer nobody. */
  readonly timeout?: Duration;
  readonly environment?: Record<string, string>;
  /** What happens to the function's log group when it leaves the stack. */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Concurrent runs set aside for (and the most allowed to) this function; unset: the account's shared pool. */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A NodejsFunction with the service's defaults: Node 24 (the active LTS) on arm64, an ESM bundle with source
 * maps, the runtime's AWS SDK v3 left out of the bundle, and a log group kept for a month. Its
 * role is its own, with no AWS managed policy: it may write to its log group and nothing else
 * until a table is bound.
 */
export class ServiceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:CreateLogGroup and writes to any log group):
    // the function's log group exists, so writing its streams is all it needs.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `training-sets ${id}: its log group and the table actions it uses`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: join(PROJECT_ROOT, props.entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      handler: "handler",
      ...(props.functionName !== undefined ? { functionName: props.functionName } : {}),
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      role,
      logGroup,
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        ...props.environment,
      },
      bundling: {
        ...BUNDLING,
        format: OutputFormat.ESM,
        externalModules: [...BUNDLING.externalModules],
        mainFields: [...BUNDLING.mainFields],
      },
    });
  }

  /**
   * Points the function at the table and grants exactly the actions `access` lists, nothing wider:
   * base-table actions on the table, index actions on each of `indexNames` (named, never `index/*`).
   */
  bindTable(table: ITable, access: TableAccess, indexNames: readonly string[]): void {
    this.addEnvironment("TABLE_NAME", table.tableName);
    this.allowTableKey(table);
    const actions = (list: readonly TableAction[]) => list.map((action) => `dynamodb:${action}`);
    if (access.table.length > 0) {
      this.addToRolePolicy(new PolicyStatement({ actions: actions(access.table), resources: [table.tableArn] }));
    }
    if (access.indexes.length > 0 && indexNames.length > 0) {
      this.addToRolePolicy(
        new PolicyStatement({
          actions: actions(access.indexes),
          resources: indexNames.map((name) => `${table.tableArn}/index/${name}`),
        }),
      );
    }
  }

  /** Points the function at the idempotency table (env `IDEMPOTENCY_TABLE`) and grants what the store does to it. */
  bindIdempotencyTable(table: ITable): void {
    this.addEnvironment("IDEMPOTENCY_TABLE", table.tableName);
    this.allowTableKey(table);
    this.addToRolePolicy(
      new PolicyStatement({
        actions: IDEMPOTENCY_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: [table.tableArn],
      }),
    );
  }

  /** A table encrypted with a customer managed key: the function may use the key through DynamoDB only. */
  private allowTableKey(table: ITable): void {
    if (!table.encryptionKey) return;
    this.addToRolePolicy(
      new PolicyStatement({
        actions: [...TABLE_KEY_ACTIONS],
        resources: [table.encryptionKey.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
