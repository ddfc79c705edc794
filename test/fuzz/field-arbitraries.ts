import fc from "fast-check";

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
export type Entry = [key: string, value: Value | Raw];

const isRaw = (value: unknown): value is Raw =>
  typeof value === "object" &&
  value !== null &&
  Object.keys(value).length === 1 &&
  typeof (value as Raw).raw === "string";

/** True when `value` (inside a list, so written as plain JSON) is an object with a key no image has. */
export function hasKeys(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.keys(value).some((key) => !["img_id", "img_name", "state", "label", "group"].includes(key));
}

/** Writes a JSON object from entries, keeping duplicate and `__proto__` keys exactly as given. */
export const objectText = (entries: readonly Entry[]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${isRaw(value) ? value.raw : JSON.stringify(value)}`).join(",")}}`;

// Nesting stays within what the body parser's reviver walks on any stack (deeper bodies: see the HTTP fuzz).
const deepArray = fc
  .integer({ min: 50, max: 1000 })
  .map((depth): Raw => ({ raw: `${"[".repeat(depth)}${"]".repeat(depth)}` }));
const deepObject = fc
  .integer({ min: 50, max: 500 })
  .map((depth): Raw => ({ raw: `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` }));
export const unicode = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("img_拓海_1.png", "\u0000", "\uFEFF", "\u202E", "e\u0301", "👩‍👩‍👧", "\uD800", "\uDFFF"),
);
export const noise: fc.Arbitrary<Value | Raw> = fc.oneof(
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
export const noiseKey = (fields: readonly string[]) =>
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
export const noiseEntries = (fields: readonly string[]) =>
  fc.array(
    fc.tuple(noiseKey(fields), fc.oneof(noise, pollution)).map(([key, value]): Entry => [key, value]),
    { maxLength: 4 },
  );

export const validId = fc.oneof(fc.stringMatching(ID), fc.constantFrom("2018062212345678911", "0", "-", "_"));

/** Anything that is not a task_id / img_id: a string outside the charset or length, an unsafe or non-integer number, another type. */
export const badId = fc.oneof(
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
export const validCount = (min: number, max: number) =>
  fc.integer({ min, max }).chain((n) => fc.constantFrom<unknown>(n, String(n)));

/** A count the contract refuses: below min, not an integer, unsafe, not a number or integer string. */
export const badCount = (min: number) =>
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

export const validSeed = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 128 }),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
);
export const badSeed = fc.oneof(
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
export const notAnObjectText = (valid: string) =>
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

export interface Fixture {
  /** A task with images, split at least once, whose image count is `images`. */
  task: string;
  images: number;
  /** Tasks that exist in the table; a "task without images" must not be one of them. */
  known: readonly string[];
}
