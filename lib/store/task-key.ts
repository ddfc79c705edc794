import { createHash } from "node:crypto";

/**
 * A task's stored partition key. With tenancy off it is the bare task_id; with tenancy on it is
 * `<tenant encoding>#<task_id>`: the same task_id under two tenants is two tasks, and answers show
 * only the task_id. A task_id never holds `#` and the encoding never does, so the last `#` splits them.
 */

/** Lower-case RFC 4648 base32: 26 characters carry 130 bits of the tenant's SHA-256. */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
export const TENANT_ENCODING_LENGTH = 26;

/** The fixed-length encoding of a tenant in stored keys: the first 130 bits of SHA-256(tenant), in base32. */
export function encodeTenant(tenant: string): string {
  const hash = createHash("sha256").update(tenant, "utf8").digest();
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < TENANT_ENCODING_LENGTH) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === TENANT_ENCODING_LENGTH) break;
  }
  return out;
}

/** The partition key a task is stored under: the bare task_id without a tenant. */
export const storedTaskKey = (tenant: string | undefined, taskId: string): string =>
  tenant === undefined ? taskId : `${encodeTenant(tenant)}#${taskId}`;

/** The task_id a stored key shows its caller. */
export const shownTaskId = (key: string): string => key.slice(key.lastIndexOf("#") + 1);
