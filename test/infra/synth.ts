import { readFileSync } from "node:fs";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { TrainingSetsStack, type TrainingSetsStackProps } from "../../infra/training-sets-stack.ts";
import type { FunctionName } from "../../lib/routes.ts";

export type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Json;
  DependsOn?: string | string[];
}

// The feature flags of cdk.json, so the template under test is the one `npm run synth` makes.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

const USER_POOL_ARN = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123";
export const VPC_ENDPOINTS = ["vpce-0a1b2c3d4e5f60718", "vpce-1234abcd"];
export const PRIVATE = { type: "none", vpcEndpointIds: VPC_ENDPOINTS } as const;
export const COGNITO = { type: "cognito", userPoolArn: USER_POOL_ARN } as const;

/** Builds the stack without bundling (not under test here), with what the tests read of it. */
export function synth(props: Partial<TrainingSetsStackProps> = {}) {
  const app = new App({ context: { ...cdkJson.context, "aws:cdk:bundling-stacks": [] } });
  const stack = new TrainingSetsStack(app, "TrainingSetsStack", {
    throttleRateLimit: 100,
    throttleBurstLimit: 200,
    ...props,
  });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const only = (type: string): Resource => {
    const found = ofType(type);
    if (found.length !== 1) throw new Error(`${found.length} resources of type ${type}`);
    return found[0]![1];
  };
  const environment = (name: FunctionName) =>
    (resources[name]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

  /** Every cdk-nag acknowledgement in the stack: rule id, reason and the construct it is on. */
  const acknowledgements = () =>
    stack.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
            id: id.replace(/^annotation::/i, ""),
            reason,
            path: construct.node.path,
          })),
        ),
    );
  /** What cdk-nag's AwsSolutions rules report that is not acknowledged. */
  const unacknowledged = () =>
    new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => ({
      rule: violation.ruleName,
      at: violation.violatingResources.map((resource) => resource.constructPath),
    }));
  return { stack, template, resources, ofType, only, environment, acknowledgements, unacknowledged };
}

export type Synthesized = ReturnType<typeof synth>;

/** The statements of every IAM policy attached to the role of function `name`. */
export function roleStatements(fixture: Synthesized, name: FunctionName): Json[] {
  const role = (fixture.resources[name]!.Properties!.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
  return fixture
    .ofType("AWS::IAM::Policy")
    .filter(([, policy]) => (policy.Properties!.Roles as Json[]).some((ref) => ref.Ref === role))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Json[] }).Statement);
}

/** A template value as a deployed function sees it, with the account and region of a test deployment. */
export function deployed(value: unknown): string {
  if (typeof value === "string") return value;
  const object = value as Json;
  if ("Fn::Join" in object) {
    const [separator, parts] = object["Fn::Join"] as [string, unknown[]];
    return parts.map(deployed).join(separator);
  }
  if ("Ref" in object) {
    const pseudo: Record<string, string> = {
      "AWS::Partition": "aws",
      "AWS::Region": "eu-west-1",
      "AWS::AccountId": "123456789012",
    };
    return pseudo[object.Ref as string] ?? `<${object.Ref}>`;
  }
  if ("Fn::GetAtt" in object) return `<${(object["Fn::GetAtt"] as string[]).join(".")}>`;
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** The dashboard's widgets as CloudWatch reads them, references written `<logical id>` (see `deployed`). */
export function dashboardWidgets(
  fixture: Synthesized,
): { type: string; properties: Json & { metrics?: unknown[][] } }[] {
  const body = deployed(fixture.only("AWS::CloudWatch::Dashboard").Properties!.DashboardBody);
  return (JSON.parse(body) as { widgets: { type: string; properties: Json & { metrics?: unknown[][] } }[] }).widgets;
}
