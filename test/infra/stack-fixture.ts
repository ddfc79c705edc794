import type { CfnTable } from "aws-cdk-lib/aws-dynamodb";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { CfnLogGroup } from "aws-cdk-lib/aws-logs";
import type { TrainingSetsStackProps } from "../../infra/training-sets-stack.ts";
import { synth as synthesize } from "./synth.ts";

export { COGNITO, type Json } from "./synth.ts";

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** The stack as synth.ts builds it, with the logical ids of its tables and functions. */
export function synth(props: Partial<TrainingSetsStackProps> = {}) {
  const { stack, template, resources, ofType, acknowledgements, unacknowledged } = synthesize(props);
  const tableId = stack.getLogicalId(stack.table.node.defaultChild as CfnTable);
  const idempotencyTableId = stack.getLogicalId(stack.idempotencyTable.node.defaultChild as CfnTable);
  // `resolve(logicalId)`, not `getLogicalId`: the latter ignores overrideLogicalId.
  const functionId = (name: keyof typeof stack.functions): string =>
    stack.resolve((stack.functions[name].node.defaultChild as CfnFunction).logicalId);
  return {
    stack,
    template,
    resources: resources as Record<string, Resource>,
    ofType: ofType as (type: string) => [string, Resource][],
    tableId,
    idempotencyTableId,
    functionId,
    acknowledgements,
    unacknowledged,
  };
}

export type StackFixture = ReturnType<typeof synth>;

/** The logical id of the log group API Gateway writes the stage's execution logs to. */
export const executionLogsId = (fixture: StackFixture): string =>
  fixture.stack.getLogicalId(fixture.stack.node.findChild("ApiExecutionLogs").node.defaultChild as CfnLogGroup);
