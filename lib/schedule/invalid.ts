/** The schedule setting a refusal names: what code 1028 calls `which`. */
export type ScheduleSetting = "expression" | "timezone" | "window_minutes" | "enabled";

/**
 * A schedule setting refused, with the English `detail` of code 1028 (400): the setting, the rule
 * and the value received. The API answers it as `ServiceError(1028, { which }, { detail })`.
 */
export class InvalidScheduleSetting extends Error {
  readonly code = 1028;
  /** The `which` of the 1028 message. */
  readonly which: ScheduleSetting;
  readonly detail: string;

  constructor(setting: ScheduleSetting, detail: string) {
    super(`${setting} invalid: ${detail}`);
    this.name = "InvalidScheduleSetting";
    this.which = setting;
    this.detail = detail;
  }
}

/** A received value as a detail quotes it: JSON, cut to 80 characters. */
function quoted(value: unknown): string {
  const text = value === undefined ? "nothing" : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function refuse(setting: ScheduleSetting, rule: string, value: unknown): never {
  throw new InvalidScheduleSetting(setting, `${setting} ${rule}, got ${quoted(value)}`);
}
