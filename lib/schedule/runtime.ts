import { awsScheduleEngine, readSchedulerSettings } from "./aws-engine.ts";
import type { ScheduleEngine } from "./engine.ts";
import { LocalScheduleEngine } from "./local-engine.ts";

/** The in-process engine: the local server starts it; the tests and `npm run invoke` use it as it is. */
export const localScheduleEngine = new LocalScheduleEngine();

let engine: ScheduleEngine | undefined;

/**
 * The engine the functions write schedules to: EventBridge Scheduler when the stack's scheduler
 * settings are in the environment (aws-engine.ts), else the in-process one, except in Lambda, where
 * an in-process schedule would never run: there the missing settings are an error. Chosen at first use.
 */
export function scheduleEngine(env: NodeJS.ProcessEnv = process.env): ScheduleEngine {
  engine ??= (() => {
    const settings = readSchedulerSettings(env);
    if (settings) return awsScheduleEngine(settings);
    if (env.AWS_LAMBDA_FUNCTION_NAME) {
      throw new Error("SCHEDULE_GROUP, SCHEDULE_ROLE_ARN, SCHEDULE_TARGET_ARN and SCHEDULE_DLQ_ARN are not set");
    }
    return localScheduleEngine;
  })();
  return engine;
}

/** Puts another engine in place (the tests' failing one), or back (`localScheduleEngine`). */
export function useScheduleEngine(replacement: ScheduleEngine): void {
  engine = replacement;
}
