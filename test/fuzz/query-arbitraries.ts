import fc from "fast-check";
import type { ErrorCode } from "../../lib/errors.ts";
import { badId, type Fixture, ID, noiseKey, unicode, validId } from "./field-arbitraries.ts";

/** A query string (as API Gateway passes it: decoded, last value wins) and the codes it may get. */
export interface QueryCase {
  query: Record<string, string>;
  /** The one code when a parameter is bad; the codes storage may answer when all parameters parse. */
  expected: ErrorCode | readonly (ErrorCode | 0)[];
}

const quote = (s: string) => fc.constantFrom(s, `"${s}"`);
const stripQuotes = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64url");

/** Cursors that can never parse for (task, setType): forged, truncated, foreign, malformed. */
function badCursor(task: string, setType: number, real: string): fc.Arbitrary<string> {
  const goodFields = [task, setType, 3, "a", 7, 8, "img-8"];
  const badField: fc.Arbitrary<unknown>[] = [
    fc.oneof(
      badId,
      validId.filter((id) => id !== task),
    ),
    fc.oneof(
      fc.integer().filter((t) => t !== setType),
      fc.constantFrom("0", "1", null, 0.5),
    ),
    fc.oneof(
      fc.integer({ max: 0 }),
      fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom("3", 2 ** 53),
    ),
    fc.oneof(
      fc.string().filter((s) => s !== "a" && s !== "b"),
      fc.constantFrom("A", null, 1),
    ),
    fc.oneof(fc.integer({ max: 0 }), fc.constantFrom("7", 2 ** 53, 1.5)),
    fc.oneof(fc.integer({ max: 0 }), fc.constantFrom("8", 2 ** 53, 1.5)),
    badId,
  ];
  return fc.oneof(
    fc
      .integer({ min: 0, max: 6 })
      .chain((at) =>
        (badField[at] as fc.Arbitrary<unknown>).map((value) =>
          b64(JSON.stringify(goodFields.map((f, i) => (i === at ? value : f)))),
        ),
      ),
    fc
      .array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 10 })
      .filter((a) => a.length !== 7)
      .map((a) => b64(JSON.stringify(a))),
    fc
      .jsonValue()
      .filter((v) => !Array.isArray(v))
      .map((v) => b64(JSON.stringify(v))),
    fc.integer({ min: 1, max: Math.max(1, real.length - 1) }).map((n) => real.slice(0, n)),
    fc
      .tuple(fc.integer({ min: 0, max: real.length }), fc.constantFrom("+", "/", "=", " ", ".", "%", "拓", "\u0000"))
      .map(([at, c]) => real.slice(0, at) + c + real.slice(at)),
    fc.string({ unit: "binary", maxLength: 30 }).filter((s) => !/^[A-Za-z0-9_-]+$/.test(s)),
    fc.constant("A".repeat(513)),
    fc.constant(""),
    fc.constant(b64(JSON.stringify(goodFields)).replace(/.$/, "")),
  );
}

/** A GET query with its expectation; `cursors` are real cursors of the fixture task (set 0, live and stale). */
export function listQuery(fixture: Fixture, cursors: { live: string; stale: string }): fc.Arbitrary<QueryCase> {
  const fields = ["task_id", "set_type_id", "limit", "cursor"] as const;
  // Mostly none: an unknown parameter is refused first (1023), before the rule a case is about.
  const extra = fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    {
      weight: 1,
      arbitrary: fc.dictionary(noiseKey(fields), fc.string({ unit: "binary", maxLength: 20 }), { maxKeys: 3 }),
    },
  );
  const goodTask = fc.oneof(fc.constant(fixture.task), validId).chain(quote);
  const goodSet = fc.constantFrom("0", "1", "2").chain(quote);
  const goodLimit = fc.option(fc.integer({ min: 1, max: 10_000 }).map(String), { nil: undefined });
  const badTask = fc
    .oneof(fc.constant(undefined), unicode, fc.constantFrom("", '""', '"', '"a', "a b", "2018062212345678911 "))
    .filter((s) => s === undefined || !ID.test(stripQuotes(s)));
  // A missing set_type_id asks for the task's summary (not a defect); an empty one is.
  const badSet = fc
    .oneof(unicode, fc.constantFrom("", "3", "-1", "01", " 1", "1.0", "+1", "-0", "３", "0x0", '""', '"1', "１", "1e0"))
    .filter((s) => !["0", "1", "2"].includes(stripQuotes(s)));
  const badLimit = fc
    .oneof(
      unicode,
      fc.constantFrom("0", "10001", "-1", "1.5", "1e3", " 5", "5 ", "+5", "0x10", "", "99999999999999999999", "５"),
    )
    .filter((s) => !(/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 10_000));

  const build = (
    task: string | undefined,
    set: string | undefined,
    limit: string | undefined,
    cursor: string | undefined,
    more: Record<string, string>,
  ) => {
    const query: Record<string, string> = { ...more };
    if (task !== undefined) query.task_id = task;
    if (set !== undefined) query.set_type_id = set;
    if (limit !== undefined) query.limit = limit;
    if (cursor !== undefined) query.cursor = cursor;
    return query;
  };
  const anyCursor = fc.option(fc.oneof(fc.constant(cursors.live), fc.string({ maxLength: 30 })), { nil: undefined });

  const unknownFirst = (query: Record<string, string>, expected: QueryCase["expected"]): QueryCase => ({
    query,
    expected: Object.keys(query).some((key) => !(fields as readonly string[]).includes(key)) ? 1023 : expected,
  });
  return fc.oneof(
    fc
      .tuple(
        badTask,
        fc.option(fc.oneof(goodSet, badSet), { nil: undefined }),
        fc.option(fc.oneof(goodLimit, badLimit), { nil: undefined }),
        anyCursor,
        extra,
      )
      .map(([t, s, l, c, more]) => unknownFirst(build(t, s, l ?? undefined, c, more), 1002 as ErrorCode)),
    fc
      .tuple(goodTask, badSet, fc.option(fc.oneof(goodLimit, badLimit), { nil: undefined }), anyCursor, extra)
      .map(([t, s, l, c, more]) => unknownFirst(build(t, s, l ?? undefined, c, more), 1004 as ErrorCode)),
    fc
      .tuple(goodTask, goodSet, badLimit, anyCursor, extra)
      .map(([t, s, l, c, more]) => unknownFirst(build(t, s, l, c, more), 1012 as ErrorCode)),
    fc
      .tuple(goodSet, goodLimit, extra)
      .chain(([s, l, more]) =>
        badCursor(fixture.task, Number(stripQuotes(s)), cursors.live).map((c) =>
          unknownFirst(build(fixture.task, s, l, c, more), 1012 as ErrorCode),
        ),
      ),
    // No set_type_id: the task's summary, or 1003 for a task without images (limit and cursor unused).
    fc
      .tuple(goodTask, fc.option(fc.oneof(goodLimit, badLimit), { nil: undefined }), anyCursor, extra)
      .map(([t, l, c, more]) => unknownFirst(build(t, undefined, l ?? undefined, c, more), [0, 1003] as const)),
    // Every parameter parses: storage answers a page, an empty set (1010), or a stale cursor (1015).
    fc
      .tuple(
        goodTask,
        goodSet,
        goodLimit,
        fc.option(fc.constantFrom(cursors.live, cursors.stale), { nil: undefined }),
        extra,
      )
      .map(([t, s, l, c, more]) => unknownFirst(build(t, s, l, c, more), [0, 1010, 1012, 1015] as const)),
  );
}
