import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { isOpen } from "../../infra/api-access.ts";
import { addTrainingSetsStack } from "../../infra/build-app.ts";
import { FUNCTIONS, ROUTES } from "../../lib/routes.ts";
import { COGNITO, type Json, PRIVATE, roleStatements, type Synthesized, synth, VPC_ENDPOINTS } from "./synth.ts";

// Each auth setting synthesizes to what it promises: where the API is reachable, who may call,
// what the functions are told, and cdk-nag acknowledgements that are true under that setting.

const iam = synth();
const cognito = synth({ auth: COGNITO });
const privateApi = synth({ auth: PRIVATE });
const SETTINGS: [string, Synthesized][] = [
  ["iam", iam],
  ["cognito", cognito],
  ["none (private)", privateApi],
];

const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const appWith = (context: Record<string, unknown>) =>
  addTrainingSetsStack(new App({ context: { ...cdkJson.context, ...context, "aws:cdk:bundling-stacks": [] } }));

const restApi = (fixture: Synthesized) => fixture.only("AWS::ApiGateway::RestApi").Properties!;

describe("auth=none", () => {
  it("is a PRIVATE endpoint attached to the configured VPC endpoints", () => {
    expect(restApi(privateApi).EndpointConfiguration).toEqual({ Types: ["PRIVATE"], VpcEndpointIds: VPC_ENDPOINTS });
  });

  it("has a resource policy that allows execute-api:Invoke only through those endpoints (aws:SourceVpce)", () => {
    const invoke = { Action: "execute-api:Invoke", Principal: { AWS: "*" }, Resource: "execute-api:/*" };
    expect((restApi(privateApi).Policy as Json).Statement).toEqual([
      { ...invoke, Effect: "Deny", Condition: { StringNotEquals: { "aws:SourceVpce": VPC_ENDPOINTS } } },
      { ...invoke, Effect: "Allow", Condition: { StringEquals: { "aws:SourceVpce": VPC_ENDPOINTS } } },
    ]);
  });

  it("does not synthesize without VPC endpoints: one line naming the fix, from the stack and from the app", () => {
    expect(() => synth({ auth: { type: "none", vpcEndpointIds: [] } })).toThrow(
      /^training-sets:auth=none needs training-sets:vpcEndpointIds \(.*\): without them the data would be open to the internet$/,
    );
    expect(() => appWith({ "training-sets:auth": "none" })).toThrow(/^[^\n]*needs training-sets:vpcEndpointIds[^\n]*$/);
    const stack = appWith({ "training-sets:auth": "none", "training-sets:vpcEndpointIds": VPC_ENDPOINTS.join(",") });
    Template.fromStack(stack).hasResourceProperties("AWS::ApiGateway::RestApi", {
      EndpointConfiguration: { Types: ["PRIVATE"], VpcEndpointIds: VPC_ENDPOINTS },
    });
  });
});

describe("iam and cognito", () => {
  it("stay regional, with no resource policy", () => {
    for (const fixture of [iam, cognito]) {
      expect(restApi(fixture).EndpointConfiguration).toEqual({ Types: ["REGIONAL"] });
      expect(restApi(fixture)).not.toHaveProperty("Policy");
    }
  });
});

describe("the functions' environment", () => {
  const data = FUNCTIONS.filter((fn) => !isOpen(fn));
  const open = FUNCTIONS.filter(isOpen);

  it("tells every open function the auth setting (API_AUTH), and nothing of any table", () => {
    expect(open.map((fn) => fn.name)).toContain("OpenApiDocument");
    for (const [setting, fixture] of SETTINGS) {
      for (const fn of open) {
        const variables = fixture.environment(fn.name);
        expect(variables.API_AUTH, `${setting} ${fn.name}`).toBe(setting.split(" ")[0]);
        for (const name of ["TABLE_NAME", "IDEMPOTENCY_TABLE", "TENANCY", "TENANT_CLAIM"]) {
          expect(variables, `${setting} ${fn.name}`).not.toHaveProperty(name);
        }
        expect(JSON.stringify(variables), fn.name).not.toMatch(/Table/);
        const dynamo = roleStatements(fixture, fn.name).filter((s) => JSON.stringify(s.Action).includes("dynamodb:"));
        expect(dynamo, fn.name).toEqual([]);
      }
    }
  });

  it("tells every data function the tenancy: off under IAM and none, claim custom:tenant under Cognito", () => {
    const expected = { iam: "off", cognito: "claim", "none (private)": "off" } as Record<string, string>;
    for (const [setting, fixture] of SETTINGS) {
      for (const fn of data) {
        const variables = fixture.environment(fn.name);
        expect(variables.TENANCY, `${setting} ${fn.name}`).toBe(expected[setting]);
        expect(variables.TENANT_CLAIM, `${setting} ${fn.name}`).toBe("custom:tenant");
        expect(variables, fn.name).not.toHaveProperty("API_AUTH");
      }
    }
  });

  it("passes a configured tenancy and claim, and refuses one the auth setting cannot give", () => {
    const account = synth({ tenancy: { mode: "account", claim: "custom:tenant" } });
    const team = synth({ auth: COGNITO, tenancy: { mode: "claim", claim: "custom:team" } });
    for (const fn of data) {
      expect(account.environment(fn.name).TENANCY, fn.name).toBe("account");
      expect(team.environment(fn.name).TENANT_CLAIM, fn.name).toBe("custom:team");
    }
    expect(() => synth({ tenancy: { mode: "claim", claim: "custom:tenant" } })).toThrow(
      /tenancy must be "off" or "account" under training-sets:auth=iam/,
    );
    expect(() => synth({ auth: PRIVATE, tenancy: { mode: "account", claim: "custom:tenant" } })).toThrow(
      /tenancy must be "off" under training-sets:auth=none/,
    );
  });
});

describe("cdk-nag acknowledgements, under each setting", () => {
  const settings: [string, Synthesized][] = [
    ...SETTINGS,
    ["iam, waf off", synth({ waf: false })],
    ["none (private), waf off, CORS", synth({ auth: PRIVATE, waf: false, corsOrigins: ["https://a.example"] })],
    [
      "cognito, CORS, KMS, CloudWatch role",
      synth({
        auth: COGNITO,
        corsOrigins: ["https://a.example"],
        tableEncryption: "customer-managed",
        cloudWatchRole: true,
      }),
    ],
  ];

  it("leave nothing unacknowledged", () => {
    for (const [setting, fixture] of settings) expect(fixture.unacknowledged(), setting).toEqual([]);
  });

  it("never claim authorization under none: there the reason is the private endpoint and its resource policy", () => {
    for (const [setting, fixture] of settings.filter(([name]) => name.startsWith("none"))) {
      const acks = fixture.acknowledgements();
      for (const ack of acks)
        expect(ack.reason, `${setting} ${ack.id} at ${ack.path}`).not.toMatch(/requires? authorization|Authorized by/i);
      const data = ROUTES.filter((route) => !isOpen(route)).map(
        (route) => fixture.stack.methods[route.name]!.node.path,
      );
      for (const path of data) {
        const reasons = acks.filter((ack) => ack.path === path).map((ack) => [ack.id, ack.reason]);
        expect(reasons.map(([id]) => id).sort(), path).toEqual(["AwsSolutions-APIG4", "AwsSolutions-COG4"]);
        for (const [, reason] of reasons) {
          expect(reason).toMatch(/PRIVATE/);
          expect(reason).toMatch(/aws:SourceVpce/);
          for (const endpoint of VPC_ENDPOINTS) expect(reason).toContain(endpoint);
        }
      }
    }
  });

  it("acknowledge no web ACL (APIG3) only when waf is off, with the reason true under the setting", () => {
    for (const [setting, fixture] of settings) {
      const apig3 = fixture.acknowledgements().filter((ack) => ack.id === "AwsSolutions-APIG3");
      if (!setting.includes("waf off")) {
        expect(apig3, setting).toEqual([]);
        continue;
      }
      expect(apig3, setting).toHaveLength(1);
      expect(apig3[0]!.reason, setting).toMatch(/training-sets:waf=off/);
      if (setting.startsWith("none")) expect(apig3[0]!.reason).toMatch(/PRIVATE.*aws:SourceVpce/);
      else expect(apig3[0]!.reason).toMatch(/requires authorization \(training-sets:auth=iam\)/);
    }
  });

  it("acknowledge data methods only where their authorization needs it: COG4 under iam, nothing under cognito", () => {
    const onData = (fixture: Synthesized) => {
      const paths = new Set(ROUTES.filter((r) => !isOpen(r)).map((r) => fixture.stack.methods[r.name]!.node.path));
      return fixture.acknowledgements().filter((ack) => paths.has(ack.path));
    };
    expect(new Set(onData(iam).map((ack) => ack.id))).toEqual(new Set(["AwsSolutions-COG4"]));
    expect(onData(cognito)).toEqual([]);
  });

  it("acknowledge the managed policy (IAM4) only on the CloudWatch role, and only when it is asked for", () => {
    for (const [setting, fixture] of settings) {
      const iam4 = fixture.acknowledgements().filter((ack) => ack.id.startsWith("AwsSolutions-IAM4"));
      if (setting.includes("CloudWatch role")) {
        expect(
          iam4.map((ack) => ack.path),
          setting,
        ).toEqual([`${fixture.stack.api.node.path}/CloudWatchRole`]);
        expect(iam4[0]!.reason).toMatch(/training-sets:cloudWatchRole=on/);
      } else expect(iam4, setting).toEqual([]);
    }
  });
});
