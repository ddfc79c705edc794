import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

/** The repository root: entries, the lock file and the bundling root are all resolved from it. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** DynamoDB actions a function may be granted; a closed list, so `dynamodb:*` cannot slip in. */
export type TableAction = "GetItem" | "Query" | "PutItem" | "UpdateItem" | "BatchGetItem" | "BatchWriteItem";

/** What one function does to the table: actions on the base table, and on its indexes. */
export interface TableAccess {
  readonly table: readonly TableAction[];
  readonly indexes: readonly TableAction[];
}

export interface ServiceFunctionProps {
  /** Handler file relative to the project root, e.g. `functions/split-task.ts` (from FUNCTIONS). */
  readonly entry: string;
  readonly description?: string;
  /** API functions default to 29 s, API Gateway's integration timeout: a longer run would answer nobody. */
  readonly timeout?: Duration;
  readonly environment?: Record<string, string>;
  /** What happens to the function's log group when it leaves the stack. */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A NodejsFunction with the service's defaults: Node 22 on arm64, an ESM bundle with source
 * maps, the runtime's AWS SDK v3 left out of the bundle, and a log group kept for a month.
 */
export class ServiceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    super(scope, id, {
      entry: join(PROJECT_ROOT, props.entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      handler: "handler",
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      logGroup,
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: "node22",
        // Lambda's Node.js 22 runtime ships AWS SDK v3; bundling it would only grow cold starts.
        externalModules: ["@aws-sdk/*"],
        mainFields: ["module", "main"],
        // ESM bundles have no `require`; CommonJS dependencies bundled in still call it.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
    });
  }

  /** Points the function at the table and grants exactly the actions `access` lists, nothing wider. */
  bindTable(table: ITable, access: TableAccess): void {
    this.addEnvironment("TABLE_NAME", table.tableName);
    const actions = (list: readonly TableAction[]) => list.map((action) => `dynamodb:${action}`);
    if (access.table.length > 0) {
      this.addToRolePolicy(new PolicyStatement({ actions: actions(access.table), resources: [table.tableArn] }));
    }
    if (access.indexes.length > 0) {
      this.addToRolePolicy(
        new PolicyStatement({ actions: actions(access.indexes), resources: [`${table.tableArn}/index/*`] }),
      );
    }
  }
}
