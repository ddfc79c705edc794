import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { TrainingSetsStack, type TrainingSetsStackProps } from "../../infra/training-sets-stack.ts";
import { ROUTES } from "../../lib/routes.ts";

// The image routes (GET, POST, DELETE /training/tasks/images) in the synthesised stack: each method
// under the authorization of the setting, each function with its error and throttle alarms.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const PATH = "/training/tasks/images";
const USER_POOL_ARN = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123";

type Json = Record<string, unknown>;

function synth(props: Partial<TrainingSetsStackProps> = {}) {
  const app = new App({ context: { ...cdkJson.context, "aws:cdk:bundling-stacks": [] } });
  const stack = new TrainingSetsStack(app, "TrainingSetsStack", {
    throttleRateLimit: 100,
    throttleBurstLimit: 200,
    ...props,
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties?: Json }>;
  return { stack, resources };
}

/** "METHOD /path" → the method's AuthorizationType (and AuthorizerId), walking ParentId up to the root. */
function methodsOf({ resources }: ReturnType<typeof synth>) {
  const pathOf = (ref: Json): string => {
    const id = ref.Ref as string | undefined;
    if (id === undefined) return "";
    const props = resources[id]?.Properties as { ParentId: Json; PathPart: string };
    return `${pathOf(props.ParentId)}/${props.PathPart}`;
  };
  return Object.fromEntries(
    Object.values(resources)
      .filter((resource) => resource.Type === "AWS::ApiGateway::Method")
      .map((resource) => {
        const props = resource.Properties as {
          HttpMethod: string;
          ResourceId: Json;
          AuthorizationType: string;
          AuthorizerId?: Json;
        };
        return [
          `${props.HttpMethod} ${pathOf(props.ResourceId)}`,
          { type: props.AuthorizationType, authorizer: props.AuthorizerId },
        ];
      }),
  );
}

const imageRoutes = ROUTES.filter((route) => route.path === PATH);

describe("the image routes in the stack", () => {
  it("are GET, POST and DELETE in lib/routes.ts", () => {
    expect(imageRoutes.map((route) => route.method).sort()).toEqual(["DELETE", "GET", "POST"]);
  });

  it.each([
    ["iam (the default)", {}, "AWS_IAM"],
    ["cognito", { auth: { type: "cognito", userPoolArn: USER_POOL_ARN } }, "COGNITO_USER_POOLS"],
    ["none (private)", { auth: { type: "none", vpcEndpointIds: ["vpce-0a1b2c3d4e5f60718"] } }, "NONE"],
  ] as [string, Partial<TrainingSetsStackProps>, string][])(
    "each method of %s has the setting's authorization, like the sets routes",
    (_, props, type) => {
      const methods = methodsOf(synth(props));
      for (const method of ["GET", "POST", "DELETE"]) {
        const found = methods[`${method} ${PATH}`];
        expect(found, `${method} ${PATH}`).toBeDefined();
        expect(found!.type, `${method} ${PATH}`).toBe(type);
        // the same authorizer (if any) as PUT /training/tasks/sets
        expect(found!.authorizer, `${method} ${PATH}`).toEqual(methods["PUT /training/tasks/sets"]!.authorizer);
      }
    },
  );

  it("each function has its error and throttle alarm", () => {
    const { stack, resources } = synth();
    for (const route of imageRoutes) {
      for (const [construct, metric] of [
        [`${route.name}Errors`, "Errors"],
        [`${route.name}Throttles`, "Throttles"],
      ] as const) {
        const alarm = stack.monitoring.alarms[construct];
        expect(alarm, construct).toBeDefined();
        const props = resources[stack.getLogicalId(alarm!.node.defaultChild as never)]!.Properties!;
        expect(props, construct).toMatchObject({
          Namespace: "AWS/Lambda",
          MetricName: metric,
          Dimensions: [{ Name: "FunctionName", Value: { Ref: route.name } }],
        });
      }
    }
  });
});
