import { CfnOutput, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import { Cors, EndpointType, LambdaIntegration, ResponseType, RestApi } from "aws-cdk-lib/aws-apigateway";
import { AttributeType, BillingMode, ProjectionType, Table } from "aws-cdk-lib/aws-dynamodb";
import type { Construct } from "constructs";
import { type ErrorCode, ServiceError } from "../lib/errors.ts";
import { ROUTES, type Route } from "../lib/routes.ts";
import { TABLE } from "../lib/table.ts";
import { ServiceFunction, type TableAccess } from "./service-function.ts";

export interface TrainingSetsStackProps extends StackProps {
  /** RETAIN keeps the table (and logs) when the stack goes; DESTROY is for throwaway stages. */
  readonly removalPolicy?: RemovalPolicy.RETAIN | RemovalPolicy.DESTROY;
  /** Steady-state requests per second the v1 stage accepts. */
  readonly throttleRateLimit: number;
  /** Requests the v1 stage accepts in a burst above the rate. */
  readonly throttleBurstLimit: number;
  /** Browser origins allowed to call the API; empty means no CORS preflight at all. */
  readonly corsOrigins?: readonly string[];
}

/**
 * What each route's function does to the table, from lib/store.ts. Keyed by route name, so a new
 * route does not compile until its grant is written down.
 */
export const TABLE_ACCESS: Record<Route["name"], TableAccess> = {
  // read the task, take/flip the lease, read the task's images, write the idle slot, poll its index
  SplitTask: { table: ["GetItem", "UpdateItem", "Query", "BatchWriteItem"], indexes: ["Query"] },
  // read the task item (seqlock), page through the live slot's index
  ListSet: { table: ["GetItem"], indexes: ["Query"] },
  // take the lease and the order counter, look up known images, upsert the rows
  RegisterImages: { table: ["UpdateItem", "BatchGetItem", "BatchWriteItem"], indexes: [] },
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

/** The service: one table, one function per route, one REST API (v1 proxy integrations) in front. */
export class TrainingSetsStack extends Stack {
  readonly table: Table;
  readonly api: RestApi;
  readonly functions: Record<Route["name"], ServiceFunction>;

  constructor(scope: Construct, id: string, props: TrainingSetsStackProps) {
    super(scope, id, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    for (const index of Object.values(TABLE.slotIndexes)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.NUMBER },
        projectionType: ProjectionType.INCLUDE,
        nonKeyAttributes: [...TABLE.projectedAttributes],
      });
    }

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

    const functions: Partial<Record<Route["name"], ServiceFunction>> = {};
    for (const route of ROUTES) {
      const fn = new ServiceFunction(this, route.name, {
        entry: route.entry,
        description: `${route.method} ${route.path}`,
        logRemovalPolicy: removalPolicy,
      });
      fn.bindTable(this.table, TABLE_ACCESS[route.name]);
      this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(fn));
      functions[route.name] = fn;
    }
    this.functions = functions as Record<Route["name"], ServiceFunction>;

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
