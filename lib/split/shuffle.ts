import { createCipheriv, createHash, randomBytes } from "node:crypto";

/** Domain-separation prefix of the key derivation; bumping "v1" would change every seeded split. */
const KEY_PREFIX = "training-sets/shuffle/v1\n";
/**
 * Keystream bytes produced per cipher call: small at first (most shuffles of a few items need a
 * few words), doubling up to MAX_CHUNK. Every size is a multiple of 16, so the chunking never
 * changes the keystream, and of 4, so words never straddle chunks.
 */
const FIRST_CHUNK = 256;
const MAX_CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(MAX_CHUNK);
const TWO_32 = 2 ** 32;

/** A fresh seed for a split that was not given one: 128 bits from the OS CSPRNG as 32 lowercase hex chars. */
export function drawSeed(): string {
  return randomBytes(16).toString("hex");
}

/**
 * A deterministic source of uniform integers, fixed by `seed`.
 *
 * Public contract (the same seed must give the same split on any machine, forever):
 * - key = SHA-256 over the UTF-8 bytes of `"training-sets/shuffle/v1\n" + seed`;
 * - keystream = AES-256-CTR under that key with an all-zero 16-byte IV (counter starts at 0,
 *   incremented as a 128-bit big-endian integer), i.e. the encryption of an endless run of zero bytes;
 * - the keystream is read as successive big-endian unsigned 32-bit words w0, w1, …;
 * - each call `nextInt(bound)` (integer, 1 ≤ bound ≤ 2**32) takes words in turn until one is
 *   below `limit = 2**32 - (2**32 % bound)` and returns `word % bound` (rejection sampling, so
 *   the result is exactly uniform on [0, bound)); rejected words are consumed.
 *
 * Words are consumed by every call in call order, so the sequence of results depends on the
 * sequence of bounds asked for (Fisher–Yates always asks n, n-1, …, 2).
 */
export function seededRandom(seed: string): (bound: number) => number {
  const key = createHash("sha256")
    .update(KEY_PREFIX + seed, "utf8")
    .digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  let view = new DataView(new ArrayBuffer(0));
  let offset = 0;
  let chunk = FIRST_CHUNK;

  const nextWord = (): number => {
    if (offset === view.byteLength) {
      const block = cipher.update(ZEROS.subarray(0, chunk));
      chunk = Math.min(chunk * 2, MAX_CHUNK);
      view = new DataView(block.buffer, block.byteOffset, block.byteLength);
      offset = 0;
    }
    const word = view.getUint32(offset, false);
    offset += 4;
    return word;
  };

  return (bound: number): number => {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_32) {
      throw new RangeError(`bound must be an integer in [1, 2**32], got ${bound}`);
    }
    const limit = TWO_32 - (TWO_32 % bound);
    let word = nextWord();
    while (word >= limit) word = nextWord();
    return word % bound;
  };
}

/**
 * In-place Fisher–Yates: for i from n-1 down to 1, swap items[i] with items[nextInt(i + 1)]. Returns
 * `items` (an array or a typed array).
 */
export function shuffle<Items extends { [index: number]: unknown; length: number }>(
  items: Items,
  nextInt: (bound: number) => number,
): Items {
  for (let i = items.length - 1; i > 0; i--) {
    const j = nextInt(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** True when `ids` is in canonical order (UTF-16 code-unit order, as `a < b` compares strings). */
export function isCanonicallySorted(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) {
    if ((ids[i] as string) < (ids[i - 1] as string)) return false;
  }
  return true;
}

/**
 * A seeded random permutation of `ids` (a new array; the input is not touched).
 * The ids are first put in canonical code-unit order, so the same seed over the same set of ids
 * gives the same permutation whatever order the ids arrive in.
 */
export function shuffleIds(ids: readonly string[], seed: string): string[] {
  const copy = ids.slice();
  // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as `<` does.
  if (!isCanonicallySorted(copy)) copy.sort();
  return shuffle(copy, seededRandom(seed));
}
