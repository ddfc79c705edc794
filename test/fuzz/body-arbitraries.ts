import fc from "fast-check";
import type { ErrorCode } from "../../lib/errors.ts";
import { MAX_BODY_BYTES } from "../../lib/model.ts";
import {
  badCount,
  badId,
  badSeed,
  type Entry,
  type Fixture,
  hasKeys,
  noise,
  noiseEntries,
  notAnObjectText,
  objectText,
  validCount,
  validId,
  validSeed,
} from "./field-arbitraries.ts";

// Bad PUT and POST bodies, each with the one code the contract says it must get (see field-arbitraries.ts).

/** A request body (text) and the one code it must get. */
export interface BodyCase {
  text: string;
  expected: ErrorCode;
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
