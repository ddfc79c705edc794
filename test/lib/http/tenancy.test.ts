import type { APIGatewayProxyEvent } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import { inTenant, readTenancy, resolveTenant, tenantOf, tenantPrefixOf } from "../../../lib/http/tenancy.ts";
import { encodeTenant, shownTaskId, storedTaskKey, TENANT_ENCODING_LENGTH } from "../../../lib/store/task-key.ts";

const withContext = (requestContext: unknown) => ({ requestContext }) as Pick<APIGatewayProxyEvent, "requestContext">;
const claims = (values: Record<string, unknown>) => withContext({ authorizer: { claims: values } });

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return [error.code, error.status, error.detail];
    throw error;
  }
  throw new Error("expected a refusal");
};

describe("the stored task key", () => {
  it("is the bare task_id without a tenant, and <26 base32 characters>#<task_id> with one", () => {
    expect(storedTaskKey(undefined, "42")).toBe("42");
    const key = storedTaskKey("team-a", "42");
    expect(key).toMatch(/^[a-z2-7]{26}#42$/);
    expect(shownTaskId(key)).toBe("42");
    expect(shownTaskId("42")).toBe("42");
  });

  it("encodes every tenant to 26 characters without #, and tells tenants apart", () => {
    const seen = new Map<string, string>();
    let runs = 0;
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128, unit: "binary" }), (tenant) => {
        const encoding = encodeTenant(tenant);
        expect(encoding).toHaveLength(TENANT_ENCODING_LENGTH);
        expect(encoding).toMatch(/^[a-z2-7]+$/);
        const earlier = seen.get(encoding);
        expect(earlier === undefined || earlier === tenant).toBe(true);
        seen.set(encoding, tenant);
        runs++;
      }),
      { numRuns: 2000 },
    );
    expect(runs).toBe(2000);
    // A known value, so the encoding (and with it every stored key) cannot change unnoticed.
    expect(encodeTenant("team-a")).toBe("s3biq3cr2hp3jea5t7wm75tccp");
  });
});

describe("readTenancy", () => {
  it("is off by default, and reads claim (default custom:tenant) and account", () => {
    expect(readTenancy({})).toEqual({ mode: "off" });
    expect(readTenancy({ TENANCY: "claim" })).toEqual({ mode: "claim", claim: "custom:tenant" });
    expect(readTenancy({ TENANCY: "claim", TENANT_CLAIM: "org" })).toEqual({ mode: "claim", claim: "org" });
    expect(readTenancy({ TENANCY: "account" })).toEqual({ mode: "account" });
    expect(() => readTenancy({ TENANCY: "teams" })).toThrow('TENANCY must be "off", "claim" or "account", got "teams"');
  });
});

describe("tenantOf", () => {
  const claim = { mode: "claim", claim: "custom:tenant" } as const;

  it("takes the claim's one value", () => {
    expect(tenantOf(claims({ "custom:tenant": "team-a" }), claim)).toBe("team-a");
    expect(tenantOf(claims({ "custom:tenant": ["team-a"] }), claim)).toBe("team-a");
  });

  it("refuses a missing, several-valued or over-long claim with 1027 (403) naming it", () => {
    expect(refusal(() => tenantOf(claims({}), claim))).toEqual([
      1027,
      403,
      'the token has no "custom:tenant" claim: the tenant comes from it',
    ]);
    expect(refusal(() => tenantOf(withContext(undefined), claim))[0]).toBe(1027);
    for (const several of [["a", "b"], "[a b]", "[a, b]", []]) {
      expect(refusal(() => tenantOf(claims({ "custom:tenant": several }), claim))).toEqual([
        1027,
        403,
        'the token\'s "custom:tenant" claim has several values: the tenant must be one',
      ]);
    }
    expect(refusal(() => tenantOf(claims({ "custom:tenant": "x".repeat(129) }), claim))[2]).toBe(
      'the token\'s "custom:tenant" claim is 129 characters, more than 128',
    );
    expect(tenantOf(claims({ "custom:tenant": "x".repeat(128) }), claim)).toHaveLength(128);
  });

  it("takes the caller's account under account tenancy, and nothing with tenancy off", () => {
    const account = { mode: "account" } as const;
    expect(tenantOf(withContext({ identity: { accountId: "123456789012" } }), account)).toBe("123456789012");
    expect(refusal(() => tenantOf(withContext({ identity: {} }), account))[0]).toBe(1027);
    expect(refusal(() => tenantOf(withContext({ identity: { accountId: "anonymous" } }), account))[0]).toBe(1027);
    expect(tenantOf(claims({ "custom:tenant": "team-a" }), { mode: "off" })).toBeUndefined();
  });
});

describe("inTenant", () => {
  it("puts a parsed request's task under its tenant's key, once the tenant is resolved", () => {
    const event = claims({ "custom:tenant": "team-a" }) as APIGatewayProxyEvent;
    expect(() => inTenant(event, { taskId: "42" })).toThrow("before the tenant was resolved");
    resolveTenant(event, { mode: "claim", claim: "custom:tenant" });
    expect(inTenant(event, { taskId: "42", other: 1 })).toEqual({ taskId: `${encodeTenant("team-a")}#42`, other: 1 });
    expect(tenantPrefixOf(event)).toBe(`${encodeTenant("team-a")}#`);
  });
});
