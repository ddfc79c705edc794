import fc from "fast-check";
import type { ErrorCode } from "../../lib/errors.ts";
import { MAX_BODY_BYTES } from "../../lib/model.ts";

/**
 * Generators of bad requests for the fuzz tests. Each case is bad by construction and carries the
 * code the contract says it must get ("the first failing rule"): a valid request is built, the field
 * that fails first is replaced by a value from that field's family of definitely-invalid values,
 * every later field may be anything at all, and unrelated keys (`__proto__`, `constructor`, deep
 * JSON, Unicode) are mixed in. The families are written from the contract (docs/api.md), not from lib/http/validate.ts.
 */

export const ID = /^[0-9A-Za-z_-]{1,64}$/;

/** A JSON fragment spliced into a body as is (for what JSON.stringify cannot write: 1e999, deep nesting). */
interface Raw {
  raw: string;
}
type Value = unknown;
type Entry = [key: string, value: Value | Raw];

const isRaw = (value: unknown): value is Raw =>
  typeof value === "object" &&
  value !== null &&
  Object.keys(value).length === 1 &&
  typeof (value as Raw).raw === "string";

/** True when `value` (inside a list, so written as plain JSON) is an object with a key no image has. */
function hasKeys(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.keys(value).some((key) => !["img_id", "img_name", "state", "label", "group"].includes(key));
}

/** Writes a JSON object from entries, keeping duplicate and `__proto__` keys exactly as given. */
const objectText = (entries: readonly Entry[]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${isRaw(value) ? value.raw : JSON.stringify(value)}`).join(",")}}`;

// Nesting stays within what the body parser's reviver walks on any stack (deeper bodies: see the HTTP fuzz).
const deepArray = fc
  .integer({ min: 50, max: 1000 })
  .map((depth): Raw => ({ raw: `${"[".repeat(depth)}${"]".repeat(depth)}` }));
const deepObject = fc
  .integer({ min: 50, max: 500 })
  .map((depth): Raw => ({ raw: `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` }));
const unicode = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("img_拓海_1.png", "\u0000", "\uFEFF", "\u202E", "e\u0301", "👩‍👩‍👧", "\uD800", "\uDFFF"),
);
const noise: fc.Arbitrary<Value | Raw> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  unicode,
  deepArray,
  deepObject,
  fc.constantFrom<Raw>(
    { raw: "1e999" },
    { raw: "-1e999" },
    { raw: "123456789012345678901234567890" },
    { raw: "-0" },
    { raw: "5e-324" },
  ),
);
const pollution = fc.constantFrom<Value | Raw>(
  { raw: '{"__proto__":{"polluted":true}}' },
  { raw: '{"constructor":{"prototype":{"polluted":true}}}' },
  { toString: "x", valueOf: 1, hasOwnProperty: null },
);

/** Optional fields being added to the requests: never generated as noise, so a case keeps its one defect. */
const OPTIONAL_FIELDS = [
  "ratios",
  "mode",
  "dry_run",
  "stratify_by",
  "group_by",
  "rare_labels",
  "lock_testing",
  "label",
  "group",
];

/** Keys that are not fields of any request: prototype keys, near-misses of field names, Unicode. */
const noiseKey = (fields: readonly string[]) =>
  fc
    .oneof(
      fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "__defineGetter__"),
      fc.constantFrom("TASK_ID", "task_id ", " task_id", "taskId", "training_count\u0000", "images[0]", "set_type_id"),
      unicode,
    )
    .filter((key) => !fields.includes(key) && !OPTIONAL_FIELDS.includes(key));

/**
 * Extra entries under keys no request has. Any of them is refused as an unknown field (1023),
 * which is checked right after the body parses, before every other field.
 */
const noiseEntries = (fields: readonly string[]) =>
  fc.array(
    fc.tuple(noiseKey(fields), fc.oneof(noise, pollution)).map(([key, value]): Entry => [key, value]),
    { maxLength: 4 },
  );

// ---- field families ----

export const validId = fc.oneof(fc.stringMatching(ID), fc.constantFrom("2018062212345678911", "0", "-", "_"));

/** Anything that is not a task_id / img_id: a string outside the charset or length, an unsafe or non-integer number, another type. */
const badId = fc.oneof(
  fc
    .oneof(
      unicode,
      fc.stringMatching(/^[0-9A-Za-z_-]{65,90}$/),
      fc.constantFrom("", " ", "a b", "1 ", "a.b", "../x", "%41", "#task", "a#b", "𝟙", "Ａ"),
    )
    .filter((s) => !ID.test(s)),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(2 ** 53, -(2 ** 53), 1e21, Number("2018062212345678911"), 1.5e300),
  fc.constantFrom<Raw>({ raw: "2018062212345678911" }, { raw: "1e999" }, { raw: "0.5" }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

/** A count the contract accepts: a safe integer ≥ min, as a JSON number or an integer string. */
const validCount = (min: number, max: number) =>
  fc.integer({ min, max }).chain((n) => fc.constantFrom<unknown>(n, String(n)));

/** A count the contract refuses: below min, not an integer, unsafe, not a number or integer string. */
const badCount = (min: number) =>
  fc.oneof(
    fc.integer({ min: -1_000_000, max: min - 1 }).chain((n) => fc.constantFrom<unknown>(n, String(n))),
    fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
    fc
      .bigInt({ min: 2n ** 53n, max: 10n ** 40n })
      .chain((n) => fc.constantFrom<unknown>(String(n), `-${n}`, { raw: String(n) })),
    fc.constantFrom<unknown>(
      2 ** 53,
      1e300,
      -(2 ** 53),
      { raw: "1e999" },
      { raw: "-1e999" },
      { raw: "0.5" },
      { raw: "1e-7" },
    ),
    fc.string({ maxLength: 12 }).filter((s) => !/^-?\d+$/.test(s)),
    fc.constantFrom(" 7", "7 ", "+7", "7.0", "1e3", "0x10", "Infinity", "NaN", "", "７", "٣", "1_000", "7\n", "--7"),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  );

const validSeed = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 128 }),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
);
const badSeed = fc.oneof(
  fc.constantFrom("", "\uD800", "seed\uDFFF", "\uDC00\uD800"),
  fc.string({ unit: "binary", minLength: 129, maxLength: 200 }),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom<unknown>(2 ** 53, 1e21, { raw: "1e999" }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 2 }),
);

/**
 * True when the body parser refuses `text` as a prototype-pollution attempt (a `__proto__` key, or a
 * `constructor` key holding a `prototype`, at any depth): the handlers answer those 1001 whatever
 * else is wrong, while the pure parsers, given the parsed value, report the first failing field.
 */
export function pollutionAttempt(text: string): boolean {
  let found = false;
  try {
    JSON.parse(text, (key, value: unknown) => {
      if (
        key === "__proto__" ||
        (key === "constructor" && typeof value === "object" && value !== null && Object.hasOwn(value, "prototype"))
      ) {
        found = true;
      }
      return value;
    });
  } catch {
    return false;
  }
  return found;
}

/** Text that is not a JSON object: other JSON values, broken or truncated JSON, nothing. */
const notAnObjectText = (valid: string) =>
  fc.oneof(
    fc
      .jsonValue()
      .filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
      .map((v) => JSON.stringify(v)),
    fc.integer({ min: 1, max: Math.max(1, valid.length - 1) }).map((n) => valid.slice(0, n)),
    fc.constantFrom(
      "",
      " ",
      "{nope",
      "{'task_id':1}",
      "task_id=1&training_count=1",
      "null",
      "[]",
      "[{}]",
      '"{}"',
      "{}}",
      "{,}",
      "\u0000",
    ),
    unicode.filter((s) => {
      try {
        const parsed: unknown = JSON.parse(s);
        return typeof parsed !== "object" || parsed === null || Array.isArray(parsed);
      } catch {
        return true;
      }
    }),
  );

// ---- requests ----

/** A request body (text) and the one code it must get. */
export interface BodyCase {
  text: string;
  expected: ErrorCode;
}

export interface Fixture {
  /** A task with images, split at least once, whose image count is `images`. */
  task: string;
  images: number;
  /** Tasks that exist in the table; a "task without images" must not be one of them. */
  known: readonly string[];
}

const shuffled = <T>(items: readonly T[]) =>
  fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });

/**
 * A PUT body with exactly one rule failing first. `fixture` lets the storage rules be reached too:
 * a sum above the task's images (1007) and a task without images (1003); neither writes.
 */
export function badSplitBody(fixture: Fixture): fc.Arbitrary<BodyCase> {
  const fields = ["task_id", "training_count", "verifying_count", "testing_count", "seed"] as const;
  const codes = {
    task_id: 1002,
    training_count: 1009,
    verifying_count: 1005,
    testing_count: 1006,
    seed: 1016,
  } as const;
  const good = {
    task_id: validId,
    training_count: validCount(1, 1_000_000),
    verifying_count: validCount(0, 1_000_000),
    testing_count: validCount(0, 1_000_000),
    seed: fc.option(validSeed, { nil: undefined }),
  };
  const bad = {
    task_id: badId,
    training_count: badCount(1),
    verifying_count: badCount(0),
    testing_count: badCount(0),
    seed: badSeed,
  };
  const anything = fc.oneof(fc.constant(undefined), noise);

  const fieldDefect = fc.integer({ min: 0, max: fields.length - 1 }).chain((at) => {
    const failing = fields[at] as (typeof fields)[number];
    const values = fields.map((field, i) => {
      if (i < at) return good[field] as fc.Arbitrary<unknown>;
      if (i > at) return fc.oneof(good[field] as fc.Arbitrary<unknown>, bad[field] as fc.Arbitrary<unknown>, anything);
      return fc
        .oneof(
          { weight: 6, arbitrary: bad[field] as fc.Arbitrary<unknown> },
          { weight: 1, arbitrary: fc.constant(undefined) },
        )
        .filter((value) => value !== undefined || failing !== "seed"); // a missing seed is valid
    });
    return fc.tuple(fc.tuple(...values), noiseEntries(fields)).chain(([chosen, extra]) => {
      const entries: Entry[] = fields.flatMap((field, i) =>
        chosen[i] === undefined ? [] : [[field, chosen[i]] as Entry],
      );
      return shuffled([...entries, ...extra]).map((all) => ({
        text: objectText(all),
        expected: (extra.length > 0 ? 1023 : codes[failing]) as ErrorCode,
      }));
    });
  });

  const valid = fc.tuple(
    validCount(1, 5),
    validCount(0, 5),
    validCount(0, 5),
    fc.option(validSeed, { nil: undefined }),
  );
  const storageDefect = fc.oneof(
    // More images asked for than the task has: 1007, read before any write.
    fc
      .tuple(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        noiseEntries(fields),
      )
      .filter(([t, v, s]) => t + v + s > fixture.images)
      .map(([t, v, s, extra]) => ({
        text: objectText([
          ["task_id", fixture.task],
          ["training_count", t],
          ["verifying_count", v],
          ["testing_count", s],
          ...extra,
        ]),
        expected: (extra.length > 0 ? 1023 : 1007) as ErrorCode,
      })),
    // A task with no images: 1003.
    fc
      .tuple(
        validId.filter((id) => !fixture.known.includes(id)),
        valid,
      )
      .map(([task, [t, v, s, seed]]) => ({
        text: objectText([
          ["task_id", task],
          ["training_count", t],
          ["verifying_count", v],
          ["testing_count", s],
          ...(seed === undefined ? [] : [["seed", seed] as Entry]),
        ]),
        expected: 1003 as ErrorCode,
      })),
  );

  const bodyDefect = fc
    .constant(
      objectText([
        ["task_id", fixture.task],
        ["training_count", 1],
        ["verifying_count", 0],
        ["testing_count", 0],
      ]),
    )
    .chain((valid) => notAnObjectText(valid))
    .map((text) => ({ text, expected: 1001 as ErrorCode }));

  return fc.oneof(
    { weight: 6, arbitrary: fieldDefect },
    { weight: 2, arbitrary: storageDefect },
    { weight: 2, arbitrary: bodyDefect },
  );
}

/** A POST body with exactly one rule failing first; 1011 cases name the exact field. */
export function badRegisterBody(): fc.Arbitrary<BodyCase & { field?: string }> {
  const image = (i: number) => ({ img_id: String(1000 + i), img_name: `img_${i}.jpg`, state: i % 6 });
  const task = fc.oneof(validId, fc.integer({ min: 0, max: 2 ** 53 - 1 }));

  const imageDefect = fc
    .tuple(
      fc.integer({ min: 1, max: 30 }),
      fc.nat(),
      fc.constantFrom("entry", "img_id", "duplicate", "img_name", "state"),
      task,
      noiseEntries(["task_id", "images"]),
    )
    .chain(([n, pick, kind, taskId, extra]) => {
      const at = pick % n;
      const images: unknown[] = Array.from({ length: n }, (_, i) => image(i));
      let value: fc.Arbitrary<unknown>;
      let field = `images[${at}]`;
      switch (kind) {
        case "entry":
          value = fc.jsonValue().filter((v) => typeof v !== "object" || v === null || Array.isArray(v));
          break;
        case "img_id":
          field += ".img_id";
          value = fc.oneof(badId, fc.constant(undefined)).map((id) => ({ ...image(at), img_id: id }));
          break;
        case "duplicate":
          if (at === 0) {
            field = "images[0].img_id";
            value = badId.map((id) => ({ ...image(0), img_id: id }));
          } else {
            field += ".img_id";
            // An earlier image's id again, possibly spelled as a JSON number of the same digits.
            value = fc
              .nat({ max: at - 1 })
              .chain((j) => fc.constantFrom<unknown>(String(1000 + j), 1000 + j))
              .map((id) => ({ ...image(at), img_id: id }));
          }
          break;
        case "img_name":
          field += ".img_name";
          value = fc
            .oneof(
              fc.constantFrom("", " ", "\t\n", "\u3000", "\u00a0", "\uD800", "img\uDFFF.png"),
              fc.string({ unit: "binary", minLength: 256, maxLength: 300 }),
              fc.integer(),
              fc.boolean(),
              fc.constant(null),
              fc.constant(undefined),
              fc.array(fc.string(), { maxLength: 2 }),
            )
            .map((name) => ({ ...image(at), img_name: name }));
          break;
        default:
          field += ".state";
          value = fc.oneof(badCount(0), fc.constant(null)).map((state) => ({ ...image(at), state }));
      }
      return fc.tuple(value, fc.array(fc.oneof(noise, fc.constant({})), { maxLength: 2 })).chain(([bad, tail]) => {
        images[at] = bad;
        // Entries after the failing one may be anything: the first failure is reported.
        const list = [
          ...images.slice(0, at + 1),
          ...images.slice(at + 1).map((entry, i) => (i < tail.length ? tail[i] : entry)),
        ];
        // An unknown key anywhere (the body, or an image object after the failing one) is 1023 first.
        const unknown = extra.length > 0 || list.some((entry) => hasKeys(entry));
        return shuffled([["task_id", taskId] as Entry, ["images", list] as Entry, ...extra]).map((all) => ({
          text: objectText(all),
          expected: (unknown ? 1023 : 1011) as ErrorCode,
          ...(unknown ? {} : { field }),
        }));
      });
    });

  const listDefect = fc
    .tuple(
      task,
      fc.oneof(
        fc.constant<unknown>(undefined),
        fc.constant([]),
        fc.constant(Array.from({ length: 1001 }, (_, i) => image(i))),
        fc.jsonValue().filter((v) => !Array.isArray(v)),
      ),
    )
    .map(([taskId, images]) => ({
      text: objectText(
        images === undefined
          ? [["task_id", taskId]]
          : [
              ["task_id", taskId],
              ["images", images],
            ],
      ),
      expected: 1011 as ErrorCode,
      field: "images",
    }));

  const taskDefect = fc
    .tuple(fc.oneof(badId, fc.constant(undefined)), fc.oneof(fc.constant([image(0)]), noise))
    .map(([taskId, images]) => ({
      text: objectText([...(taskId === undefined ? [] : [["task_id", taskId] as Entry]), ["images", images]]),
      // An image object with a key no image has is 1023, checked before task_id.
      expected: (Array.isArray(images) && images.some((entry) => hasKeys(entry)) ? 1023 : 1002) as ErrorCode,
    }));

  const bodyDefect = notAnObjectText(
    objectText([
      ["task_id", "t"],
      ["images", [image(0)]],
    ]),
  ).map((text) => ({ text, expected: 1001 as ErrorCode }));

  return fc.oneof(
    { weight: 6, arbitrary: imageDefect },
    { weight: 2, arbitrary: listDefect },
    { weight: 2, arbitrary: taskDefect },
    { weight: 2, arbitrary: bodyDefect },
  );
}

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

/** A body just over (or just under) the 1 MiB limit, in multi-byte characters so bytes ≠ characters. */
export const sizedBody = fc
  .tuple(fc.integer({ min: -64, max: 64 }), fc.constantFrom("x", "é", "拓", "😀"))
  .map(([delta, char]) => {
    const head = '{"task_id":"t","training_count":0,"pad":"';
    const tail = '"}';
    const bytes = MAX_BODY_BYTES + delta - head.length - tail.length;
    const unit = Buffer.byteLength(char);
    const pad = char.repeat(Math.floor(bytes / unit)) + "x".repeat(bytes % unit);
    const text = head + pad + tail;
    // Under the limit, "pad" is a field no request has: 1023, checked first once the body parses.
    return { text, expected: (Buffer.byteLength(text) > MAX_BODY_BYTES ? 1014 : 1023) as ErrorCode };
  });
