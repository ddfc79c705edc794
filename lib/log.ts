/** Log levels, lowest first; LOG_LEVEL (default "info") hides the ones below it. */
const LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LEVELS)[number];

const threshold = (): number => {
  const index = LEVELS.indexOf((process.env.LOG_LEVEL ?? "info").toLowerCase() as Level);
  return index === -1 ? 1 : index;
};

/** One JSON line on stdout (stderr for warn and error), as CloudWatch and the local server read it. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (LEVELS.indexOf(level) < threshold()) return;
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "warn" || level === "error") console.error(line);
  else console.log(line);
}
