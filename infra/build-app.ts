import { type App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { readOptions } from "./options.ts";
import { TrainingSetsStack } from "./training-sets-stack.ts";

/**
 * The construct id of the stack; `cdk synth` writes its template to cdk.out/<id>.template.json
 * whatever the stage (the stage names the CloudFormation stack, not the template file).
 */
export const STACK_ID = "TrainingSetsStack";

/** The CloudFormation stack name of a stage: dev and prod side by side in one account. */
const stackName = (stage: string): string => `TrainingSets-${stage}`;

/**
 * The stack as `cdk synth` and `cdk deploy` make it: the options from the app's CDK context, and
 * the cdk-nag AwsSolutions rules as a policy validation plugin, so that a synth with an
 * unacknowledged finding fails (the report is in cdk.out/policy-validation-report.json).
 */
export function addTrainingSetsStack(app: App): TrainingSetsStack {
  const { stage, ...options } = readOptions((key) => app.node.tryGetContext(key));
  // Environment-agnostic (no `env`): synth needs no account, region or credentials.
  const stack = new TrainingSetsStack(app, STACK_ID, {
    stackName: stackName(stage),
    description: `training-sets (${stage}): random training/verifying/testing split of a task's images`,
    stage,
    ...options,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
