import { createHash } from "node:crypto";

const PREFIX = "task-";
/** Lower-case RFC 4648 base32: every character is one EventBridge allows in a name, and case never matters. */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
/** "task-" and all 256 bits of the hash in 52 characters: 57, within EventBridge's 64. */
export const SCHEDULE_NAME_LENGTH = PREFIX.length + Math.ceil(256 / 5);

/**
 * The EventBridge schedule name of a task: `task-` and the base32 SHA-256 of its stored key (the
 * tenant-qualified task id). Fixed length, never the raw id, so any key fits the 64-character
 * `[0-9a-zA-Z-_.]` rule and a name tells nothing of the task or its tenant.
 */
export function scheduleName(storedTaskKey: string): string {
  const hash = createHash("sha256").update(storedTaskKey, "utf8").digest();
  let out = PREFIX;
  let bits = 0;
  let value = 0;
  for (const byte of hash) {
    value = ((value << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}
