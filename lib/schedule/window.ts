import { refuse } from "./invalid.ts";

/** EventBridge's flexible time window, as the service allows it: 0 (off) to 60 minutes. */
export const MAX_WINDOW_MINUTES = 60;

/** A schedule's `window_minutes`: an integer 0–60, default 0 (runs on time); anything else is refused (1028). */
export function parseWindowMinutes(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_WINDOW_MINUTES) {
    return refuse("window_minutes", `must be an integer 0–${MAX_WINDOW_MINUTES}`, value);
  }
  return value + 0; // -0 is 0
}

/** A schedule's `enabled`: true or false, default true; anything else is refused (1028). */
export function parseEnabled(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== "boolean") return refuse("enabled", "must be true or false", value);
  return value;
}
