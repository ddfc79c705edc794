import { RemovalPolicy } from "aws-cdk-lib";
import { Cors } from "aws-cdk-lib/aws-apigateway";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../infra/defaults.ts";
import { FUNCTIONS } from "../../lib/routes.ts";
import { COGNITO, type Json, PRIVATE, roleStatements, type Synthesized, synth } from "./synth.ts";

// The stack's guards in front of and around the data: the web ACL, deletion protection, the
// tables' key, CORS for browsers, and API Gateway's account logging role.

const base = synth();
const stageId = (fixture: Synthesized) => fixture.ofType("AWS::ApiGateway::Stage")[0]![0];
const tables = (fixture: Synthesized) => fixture.ofType("AWS::DynamoDB::Table").map(([, table]) => table.Properties!);

describe("the web ACL", () => {
  const acl = (fixture: Synthesized) => fixture.only("AWS::WAFv2::WebACL").Properties as Json & { Rules: Json[] };

  it("is regional, allows by default, and is associated with stage v1", () => {
    expect(acl(base)).toMatchObject({ Scope: "REGIONAL", DefaultAction: { Allow: {} } });
    const association = base.only("AWS::WAFv2::WebACLAssociation").Properties!;
    const aclId = base.ofType("AWS::WAFv2::WebACL")[0]![0];
    expect(association.WebACLArn).toEqual({ "Fn::GetAtt": [aclId, "Arn"] });
    expect(JSON.stringify(association.ResourceArn)).toContain(`{"Ref":"${stageId(base)}"}`);
    expect(JSON.stringify(association.ResourceArn)).toContain("/stages/");
  });

  it("blocks a client IP past the rate limit (default, or configured) in 5 minutes, before anything else", () => {
    const rate = (fixture: Synthesized) => acl(fixture).Rules.find((rule) => rule.Name === "RatePerClientIp");
    expect(rate(base)).toMatchObject({
      Priority: 0,
      Action: { Block: {} },
      Statement: {
        RateBasedStatement: { Limit: DEFAULTS.wafRateLimit, AggregateKeyType: "IP", EvaluationWindowSec: 300 },
      },
    });
    expect(rate(synth({ waf: { rateLimit: 1500 } }))).toMatchObject({
      Statement: { RateBasedStatement: { Limit: 1500 } },
    });
  });

  it("runs AWS's common rule set, counting (not blocking) bodies over 8 KB: ours go up to 1 MiB", () => {
    expect(acl(base).Rules.find((rule) => rule.Name === "AWSManagedRulesCommonRuleSet")).toMatchObject({
      Priority: 1,
      OverrideAction: { None: {} },
      Statement: {
        ManagedRuleGroupStatement: {
          VendorName: "AWS",
          Name: "AWSManagedRulesCommonRuleSet",
          RuleActionOverrides: [{ Name: "SizeRestrictions_BODY", ActionToUse: { Count: {} } }],
        },
      },
    });
    expect(acl(base).Rules).toHaveLength(2);
  });

  it("guards a private endpoint too, and is gone only when turned off", () => {
    const privateApi = synth({ auth: PRIVATE });
    privateApi.template.resourceCountIs("AWS::WAFv2::WebACL", 1);
    privateApi.template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 1);
    const off = synth({ waf: false });
    off.template.resourceCountIs("AWS::WAFv2::WebACL", 0);
    off.template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 0);
    expect(off.ofType("AWS::ApiGateway::GatewayResponse").map(([, r]) => r.Properties!.ResponseType)).not.toContain(
      "WAF_FILTERED",
    );
  });

  it("has its blocks answered as {code:1027} 403 JSON naming the limit, not as an unknown route", () => {
    const blocked = base
      .ofType("AWS::ApiGateway::GatewayResponse")
      .find(([, response]) => response.Properties!.ResponseType === "WAF_FILTERED")?.[1].Properties;
    expect(blocked?.StatusCode).toBe("403");
    const body = JSON.parse((blocked!.ResponseTemplates as Json)["application/json"] as string);
    expect(body).toMatchObject({ code: 1027, msg: "未授权的请求", request_id: "$context.requestId" });
    expect(body.detail).toContain(`more than ${DEFAULTS.wafRateLimit} requests from this address in 5 minutes`);
  });
});

describe("deletion protection", () => {
  it("is on for both tables by default", () => {
    for (const table of tables(base)) expect(table.DeletionProtectionEnabled).toBe(true);
  });

  it("is off on a throwaway stage (removalPolicy DESTROY), and refused together with it", () => {
    const throwaway = synth({ removalPolicy: RemovalPolicy.DESTROY });
    for (const table of tables(throwaway)) expect(table.DeletionProtectionEnabled).toBe(false);
    expect(() => synth({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: true })).toThrow(
      /^training-sets:deletionProtection must be off with training-sets:removalPolicy=destroy/,
    );
    for (const table of tables(synth({ deletionProtection: false })))
      expect(table.DeletionProtectionEnabled).toBe(false);
  });
});

describe("the tables' key", () => {
  const kms = synth({ tableEncryption: "customer-managed" });

  it("is AWS owned by default: no key of the stack's own", () => {
    base.template.resourceCountIs("AWS::KMS::Key", 0);
    for (const table of tables(base)) expect(table).not.toHaveProperty("SSESpecification");
  });

  it("when customer managed, is one rotating key of the stack's that encrypts both tables", () => {
    const [keyId, key] = kms.ofType("AWS::KMS::Key")[0]!;
    expect(kms.ofType("AWS::KMS::Key")).toHaveLength(1);
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    for (const table of tables(kms)) {
      expect(table.SSESpecification).toEqual({
        SSEEnabled: true,
        SSEType: "KMS",
        KMSMasterKeyId: { "Fn::GetAtt": [keyId, "Arn"] },
      });
    }
  });

  it("may be used by the data functions through DynamoDB only (kms:ViaService), and not at all by the open ones", () => {
    const keyId = kms.ofType("AWS::KMS::Key")[0]![0];
    for (const fn of FUNCTIONS) {
      const statements = roleStatements(kms, fn.name).filter((s) => JSON.stringify(s.Action).includes("kms:"));
      if (fn.table.table.length === 0) {
        expect(statements, fn.name).toEqual([]);
        continue;
      }
      expect(statements, fn.name).toHaveLength(1);
      expect(statements[0]).toMatchObject({
        Effect: "Allow",
        Resource: { "Fn::GetAtt": [keyId, "Arn"] },
        Condition: {
          StringEquals: {
            "kms:ViaService": { "Fn::Join": ["", ["dynamodb.", { Ref: "AWS::Region" }, ".amazonaws.com"]] },
          },
        },
      });
      expect([statements[0]!.Action].flat().sort()).toEqual(
        ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"].sort(),
      );
    }
  });
});

describe("CORS", () => {
  const origin = "https://label.example.com";
  const cors = synth({ corsOrigins: [origin] });
  const exposed = "'Idempotent-Replayed,Retry-After,X-Request-Id'";
  const preflightHeaders = (fixture: Synthesized) =>
    fixture
      .ofType("AWS::ApiGateway::Method")
      .filter(([, method]) => method.Properties!.HttpMethod === "OPTIONS")
      .map(([, method]) => {
        const integration = method.Properties!.Integration as { IntegrationResponses: { ResponseParameters: Json }[] };
        return integration.IntegrationResponses[0]!.ResponseParameters;
      });
  const gatewayHeaders = (fixture: Synthesized) =>
    fixture.ofType("AWS::ApiGateway::GatewayResponse").map(([, response]) => ({
      type: response.Properties!.ResponseType as string,
      headers: response.Properties!.ResponseParameters as Json,
    }));

  it("lets a preflight send Idempotency-Key besides the default headers, and names the headers a script may read", () => {
    const all = preflightHeaders(cors);
    expect(all.length).toBeGreaterThan(0);
    for (const headers of all) {
      const allowed = String(headers["method.response.header.Access-Control-Allow-Headers"]).slice(1, -1).split(",");
      expect(allowed).toEqual([...Cors.DEFAULT_HEADERS, "Idempotency-Key"]);
      expect(headers["method.response.header.Access-Control-Expose-Headers"]).toBe(exposed);
      expect(headers["method.response.header.Access-Control-Allow-Origin"]).toBe(`'${origin}'`);
    }
  });

  it("puts the origin and the exposed headers on every gateway answer, so a browser can read a refusal", () => {
    for (const { type, headers } of gatewayHeaders(cors)) {
      expect(headers["gatewayresponse.header.Access-Control-Allow-Origin"], type).toBe(`'${origin}'`);
      expect(headers["gatewayresponse.header.Access-Control-Expose-Headers"], type).toBe(exposed);
    }
  });

  it("echoes the request's Origin on gateway answers when several origins are allowed (they carry no data)", () => {
    const several = synth({ corsOrigins: [origin, "https://admin.example.com"] });
    for (const { type, headers } of gatewayHeaders(several)) {
      expect(headers["gatewayresponse.header.Access-Control-Allow-Origin"], type).toBe("method.request.header.Origin");
      expect(headers["gatewayresponse.header.Vary"], type).toBe("'Origin'");
    }
  });

  it("adds no CORS header anywhere when no origins are configured", () => {
    for (const { type, headers } of gatewayHeaders(base)) {
      expect(
        Object.keys(headers).filter((name) => name.includes("Access-Control")),
        type,
      ).toEqual([]);
    }
    expect(preflightHeaders(base)).toEqual([]);
  });
});

describe("API Gateway's account CloudWatch role", () => {
  it("is not made by default", () => {
    base.template.resourceCountIs("AWS::ApiGateway::Account", 0);
  });

  it("is made when asked: a role API Gateway assumes, set on the account before the stage is created", () => {
    const withRole = synth({ cloudWatchRole: true, auth: COGNITO });
    const account = withRole.ofType("AWS::ApiGateway::Account");
    expect(account).toHaveLength(1);
    const roleId = (account[0]![1].Properties!.CloudWatchRoleArn as { "Fn::GetAtt": [string] })["Fn::GetAtt"][0];
    expect(JSON.stringify(withRole.resources[roleId]?.Properties?.AssumeRolePolicyDocument)).toContain(
      "apigateway.amazonaws.com",
    );
    expect([withRole.resources[stageId(withRole)]!.DependsOn].flat()).toContain(account[0]![0]);
  });
});
