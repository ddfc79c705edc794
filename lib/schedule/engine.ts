/** What a scheduled run receives: the stored task key, the schedule's revision, and the time it was due. */
export interface RunInput {
  readonly task_key: string;
  readonly revision: number;
  /** ISO 8601, UTC: EventBridge Scheduler fills in `<aws.scheduler.scheduled-time>`. */
  readonly scheduled_time: string;
}

/** EventBridge Scheduler's placeholder for the time a run was due, replaced in the target's input. */
export const SCHEDULED_TIME_PLACEHOLDER = "<aws.scheduler.scheduled-time>";

/** One task's schedule as the engine runs it. */
export interface EngineSchedule {
  readonly expression: string;
  readonly timezone: string;
  readonly startDate: Date;
  readonly windowMinutes: number;
  readonly enabled: boolean;
  /** The run's input, its scheduled time still the placeholder. */
  readonly input: Omit<RunInput, "scheduled_time">;
}

/**
 * What runs the schedules: EventBridge Scheduler in AWS (aws-engine.ts), timers in the local
 * server (local-engine.ts). Both calls are idempotent by name: `put` creates or replaces, `delete`
 * of a schedule that is not there succeeds.
 */
export interface ScheduleEngine {
  put(name: string, schedule: EngineSchedule): Promise<void>;
  delete(name: string): Promise<void>;
  /** Whether the engine holds a schedule by that name (a group rebuilt empty holds none). */
  has(name: string): Promise<boolean>;
}

/** The input of a run as the target receives it, from a schedule's input and its scheduled time. */
export const runInputText = (input: EngineSchedule["input"], scheduledTime: string): string =>
  JSON.stringify({ task_key: input.task_key, revision: input.revision, scheduled_time: scheduledTime });

/** A scheduled time as EventBridge Scheduler writes it: ISO 8601 in UTC, to the second. */
export const scheduledTimeText = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, "Z");
