import { awsScheduleEngine, readSchedulerSettings } from "./aws-engine.ts";
import type { ScheduleEngine } from "./engine.ts";
import { LocalScheduleEngine } from "./local-engine.ts";

/** The in-process engine: the local server starts it; the tests and `npm run invoke` use it as it is. */
export const localScheduleEngine = new LocalScheduleEngine();

let engine: ScheduleEngine | undefined;

/**
 * The engine the functions write schedules to: EventBridge Scheduler when the stack's scheduler
 * settings are in the environment (aws-engine.ts), else the in-process one. Chosen at first use.
 */
export function scheduleEngine(): ScheduleEngine {
  engine ??= (() => {
    const settings = readSchedulerSettings();
    return settings ? awsScheduleEngine(settings) : localScheduleEngine;
  })();
  return engine;
}

/** Puts another engine in place (the tests' failing one), or back (`localScheduleEngine`). */
export function useScheduleEngine(replacement: ScheduleEngine): void {
  engine = replacement;
}
