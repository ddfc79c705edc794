import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SCHEDULE_NAME_LENGTH, scheduleName } from "../../../lib/schedule/index.ts";

/** EventBridge Scheduler's rule for a schedule name. */
const EVENTBRIDGE_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;

/** The name by its definition, through BigInt: "task-" and SHA-256 in base32, zero bits after the last 256. */
function expectedName(key: string): string {
  const hash = BigInt(`0x${createHash("sha256").update(key, "utf8").digest("hex")}`) << 4n;
  let out = "";
  for (let i = 51; i >= 0; i--) out += "abcdefghijklmnopqrstuvwxyz234567"[Number((hash >> BigInt(5 * i)) & 31n)];
  return `task-${out}`;
}

/** Stored keys: ids, tenant-qualified or not, and any text at all. */
const key = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 100 }),
  fc
    .tuple(fc.string({ unit: "binary-ascii", maxLength: 26 }), fc.stringMatching(/^[0-9A-Za-z_-]{1,64}$/))
    .map(([tenant, id]) => `${tenant}#${id}`),
);

describe("scheduleName", () => {
  it("is task- and the base32 SHA-256 of the stored task key: 57 characters", () => {
    expect(SCHEDULE_NAME_LENGTH).toBe(57);
    for (const key of ["2018062212345678911", "abcdefghijklmnopqrstuvwxyz234567#2018062212345678911", "", "任务"]) {
      expect(scheduleName(key)).toBe(expectedName(key));
      expect(scheduleName(key)).toHaveLength(SCHEDULE_NAME_LENGTH);
    }
  });

  it("gives 100,000 distinct keys, bare and tenant-qualified, 100,000 distinct valid names that never hold the id", () => {
    const names = new Set<string>();
    const wrong: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const id = String(2018062212345678911n + BigInt(i));
      for (const key of [id, `mfrggzdfmztwq2lknnwg23tpobyxe#${id}`]) {
        const name = scheduleName(key);
        if (!EVENTBRIDGE_NAME.test(name) || name.includes(id)) wrong.push(`${key} → ${name}`);
        names.add(name);
      }
    }
    expect(wrong).toEqual([]);
    expect(names.size).toBe(100_000);
  });

  it("is valid, of fixed length and the definition's for any key, and differs for different keys (fast-check)", () => {
    let reached = 0;
    fc.assert(
      fc.property(key, key, (a, b) => {
        const name = scheduleName(a);
        expect(name).toMatch(EVENTBRIDGE_NAME);
        expect(name).toHaveLength(SCHEDULE_NAME_LENGTH);
        expect(name).toBe(expectedName(a));
        if (a !== b) {
          expect(scheduleName(b)).not.toBe(name);
          reached++;
        }
      }),
      { numRuns: 1000 },
    );
    expect(reached).toBeGreaterThanOrEqual(900);
  });
});
