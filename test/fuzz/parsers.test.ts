import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceError } from "../../lib/errors.ts";
import { decodeCursor, encodeCursor } from "../../lib/http/cursor.ts";
import { parseSetsQuery } from "../../lib/http/queries.ts";
import { parseRegisterRequest, parseSplitSpec } from "../../lib/http/validate.ts";
import type { SetCursor } from "../../lib/model.ts";
import { badRegisterBody, badSplitBody } from "./body-arbitraries.ts";
import { ID, validId } from "./field-arbitraries.ts";
import { listQuery } from "./query-arbitraries.ts";

/**
 * Property-based fuzzing of the pure request parsers: thousands of generated bad requests, each
 * bad by construction, must get exactly the contract's first-failing code; arbitrary input must either
 * parse into a well-formed request or fail with one of the route's codes, never anything else.
 */

const RUNS = 3000;
const fixture = { task: "fuzz-task", images: 12, known: ["fuzz-task", "fuzz-unsplit"] };
const cursor = (version: number): string =>
  encodeCursor({ taskId: fixture.task, setType: 0, version, token: "0a1b2c", n: 12, size: 8, position: 5, after: 7 });

/** The ServiceError a parse throws, or "parsed" (or the foreign error, which fails the property). */
function outcome(parse: () => unknown): ServiceError | "parsed" {
  try {
    parse();
    return "parsed";
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
}

/** JSON text → value as the body parser would give it, or undefined when it is not JSON. */
function parsed(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

afterEach(() => {
  // No generated __proto__ / constructor key ever reached a prototype.
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty("polluted");
});

// The generated bodies are the legacy request's, with none of the optional fields.
describe.each([["parseSplitSpec", parseSplitSpec]] as const)("PUT body parser %s", (_, parse) => {
  it(`gives each of ${RUNS} bad bodies exactly the code of its first failing rule`, () => {
    fc.assert(
      fc.property(badSplitBody(fixture), ({ text, expected }) => {
        const body = parsed(text);
        if (body === undefined) {
          expect(expected).toBe(1001);
          return;
        }
        const result = outcome(() => parse(body.value));
        if (expected === 1003 || expected === 1007) {
          expect(result).toBe("parsed"); // storage's rules
          return;
        }
        expect(result).toBeInstanceOf(ServiceError);
        expect({ code: (result as ServiceError).code, status: (result as ServiceError).status }).toEqual({
          code: expected,
          status: 400,
        });
      }),
      { numRuns: RUNS },
    );
  });

  it(`turns ${RUNS} arbitrary values into a well-formed request or one of its codes, nothing else`, () => {
    const body = fc.oneof(
      fc.anything({
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withTypedArray: true,
        withSparseArray: true,
      }),
      fc.record(
        {
          task_id: fc.anything(),
          training_count: fc.anything(),
          verifying_count: fc.anything(),
          testing_count: fc.anything(),
          seed: fc.anything(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(body, (value) => {
        const result = outcome(() => parse(value));
        if (result !== "parsed") {
          // 1017–1019 only if fc.anything happened to produce a key named like an optional field.
          expect([1001, 1002, 1005, 1006, 1009, 1016, 1017, 1018, 1019, 1023]).toContain(result.code);
          return;
        }
        const request = parse(value);
        expect(request.taskId).toMatch(ID);
        if (request.counts === undefined) return; // sized by ratios
        for (const [setType, min] of [
          [0, 1],
          [1, 0],
          [2, 0],
        ] as const) {
          const count = request.counts[setType];
          expect(Number.isSafeInteger(count) && count >= min).toBe(true);
          expect(Object.is(count, -0)).toBe(false);
        }
        if (request.seed !== undefined) expect([...request.seed].length).toBeLessThanOrEqual(128);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("POST body parser", () => {
  it(`gives each of ${RUNS} bad bodies exactly the code, and for 1011 the exact field, of its first failing rule`, () => {
    fc.assert(
      fc.property(badRegisterBody(), ({ text, expected, field }) => {
        const body = parsed(text);
        if (body === undefined) {
          expect(expected).toBe(1001);
          return;
        }
        const result = outcome(() => parseRegisterRequest(body.value));
        expect(result).toBeInstanceOf(ServiceError);
        const error = result as ServiceError;
        expect({ code: error.code, status: error.status }).toEqual({ code: expected, status: 400 });
        if (field !== undefined) expect(error.message).toBe(`图像数据格式错误: ${field}`);
      }),
      { numRuns: RUNS },
    );
  });

  it(`turns ${RUNS} arbitrary values into a well-formed request or one of its codes, nothing else`, () => {
    const body = fc.oneof(
      fc.anything({ withSparseArray: true, withNullPrototype: true }),
      fc.record(
        { task_id: fc.oneof(validId, fc.anything()), images: fc.array(fc.anything(), { maxLength: 5 }) },
        { requiredKeys: [] },
      ),
      fc.record({
        task_id: validId,
        images: fc.array(
          fc.record({ img_id: fc.anything(), img_name: fc.anything(), state: fc.anything() }, { requiredKeys: [] }),
          { maxLength: 5 },
        ),
      }),
    );
    fc.assert(
      fc.property(body, (value) => {
        const result = outcome(() => parseRegisterRequest(value));
        if (result !== "parsed") {
          expect([1001, 1002, 1011, 1023]).toContain(result.code);
          return;
        }
        const request = parseRegisterRequest(value);
        expect(request.taskId).toMatch(ID);
        expect(request.images.length).toBeGreaterThanOrEqual(1);
        expect(new Set(request.images.map((image) => image.imgId)).size).toBe(request.images.length);
        for (const image of request.images) {
          expect(image.imgId).toMatch(ID);
          expect(image.imgName.trim().length).toBeGreaterThan(0);
          if (image.state !== undefined) expect(Number.isSafeInteger(image.state) && image.state >= 0).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("GET query parser (parseSetsQuery, as the handler uses it)", () => {
  it(`gives each of ${RUNS} bad queries exactly the code of its first failing rule`, () => {
    fc.assert(
      fc.property(listQuery(fixture, { live: cursor(3), stale: cursor(1) }), ({ query, expected }) => {
        const result = outcome(() => parseSetsQuery(query));
        if (typeof expected !== "number") {
          expect(result === "parsed" || result.code === 1012).toBe(true);
          return;
        }
        expect(result).toBeInstanceOf(ServiceError);
        expect({ code: (result as ServiceError).code, status: (result as ServiceError).status }).toEqual({
          code: expected,
          status: 400,
        });
      }),
      { numRuns: RUNS },
    );
  });

  it(`turns ${RUNS} arbitrary query maps into a well-formed query or one of its codes, nothing else`, () => {
    const value = fc.option(fc.string({ unit: "binary", maxLength: 40 }), { nil: undefined });
    const query = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 12 }), value),
      fc.record({ task_id: value, set_type_id: value, limit: value, cursor: value }, { requiredKeys: [] }),
      fc.constantFrom(null, undefined),
    );
    fc.assert(
      fc.property(query, (params) => {
        const result = outcome(() => parseSetsQuery(params as Record<string, string | undefined> | null));
        if (result !== "parsed") {
          expect([1002, 1004, 1012, 1023]).toContain(result.code);
          return;
        }
        const parsedQuery = parseSetsQuery(params as Record<string, string | undefined>);
        expect(parsedQuery.taskId).toMatch(ID);
        if (parsedQuery.setType === undefined) return; // the task's summary
        expect([0, 1, 2]).toContain(parsedQuery.setType);
        expect(Number.isInteger(parsedQuery.limit) && parsedQuery.limit >= 1 && parsedQuery.limit <= 10_000).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("cursor codec", () => {
  it(`round-trips ${RUNS} well-formed cursors and refuses arbitrary strings with 1012 only`, () => {
    const MAX = 2 ** 53 - 1;
    // Made once: a string-from-regex arbitrary costs milliseconds to build, so not inside `chain`.
    const taskIds = fc.stringMatching(ID);
    const tokens = fc.stringMatching(/^[0-9a-f]{1,32}$/);
    const wellFormed = fc
      .tuple(fc.integer({ min: 2, max: MAX }), fc.integer({ min: 2, max: MAX }), fc.integer({ min: 1, max: MAX }))
      .chain(([n, s, a]) => {
        const size = Math.min(n, s);
        return fc.record<SetCursor>({
          taskId: taskIds,
          setType: fc.constantFrom(0, 1, 2),
          version: fc.integer({ min: 1, max: MAX }),
          token: tokens,
          n: fc.constant(n),
          size: fc.constant(size),
          position: fc.integer({ min: 1, max: size - 1 }),
          after: fc.constant(Math.min(a, n - 1)),
        });
      });
    fc.assert(
      fc.property(wellFormed, fc.string({ unit: "binary", maxLength: 600 }), (c, text) => {
        expect(decodeCursor(encodeCursor(c))).toEqual(c);
        const result = outcome(() => decodeCursor(text));
        if (result !== "parsed") expect(result.code).toBe(1012);
      }),
      { numRuns: RUNS },
    );
  });
});
