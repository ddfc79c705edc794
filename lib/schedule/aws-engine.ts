import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import { type EngineSchedule, runInputText, SCHEDULED_TIME_PLACEHOLDER, type ScheduleEngine } from "./engine.ts";

/** Where the stack's schedules live and what they invoke (environment variables the stack sets on the functions). */
export interface SchedulerSettings {
  /** SCHEDULE_GROUP: the stack's schedule group. */
  readonly groupName: string;
  /** SCHEDULE_ROLE_ARN: the role EventBridge Scheduler assumes, allowed to invoke only the run function. */
  readonly roleArn: string;
  /** SCHEDULE_TARGET_ARN: the run function (ResplitTasks). */
  readonly targetArn: string;
  /** SCHEDULE_DLQ_ARN: the dead-letter queue of what Scheduler could not deliver. */
  readonly deadLetterArn: string;
}

const VARIABLES = {
  groupName: "SCHEDULE_GROUP",
  roleArn: "SCHEDULE_ROLE_ARN",
  targetArn: "SCHEDULE_TARGET_ARN",
  deadLetterArn: "SCHEDULE_DLQ_ARN",
} as const satisfies Record<keyof SchedulerSettings, string>;

/**
 * The scheduler settings, or undefined when none is set (the local server, the tests: schedules
 * run in-process). Some set and some not is a deployment error, thrown at cold start.
 */
export function readSchedulerSettings(env: NodeJS.ProcessEnv = process.env): SchedulerSettings | undefined {
  const values = Object.fromEntries(
    Object.entries(VARIABLES).map(([key, name]) => [key, (env[name] ?? "").trim()]),
  ) as Record<keyof SchedulerSettings, string>;
  const missing = Object.entries(VARIABLES)
    .filter(([key]) => values[key as keyof SchedulerSettings] === "")
    .map(([, name]) => name);
  if (missing.length === Object.keys(VARIABLES).length) return undefined;
  if (missing.length > 0) throw new Error(`schedules need ${missing.join(", ")} set as well`);
  return values;
}

/** The minimal client the engine needs: `send` of the three schedule commands. */
export type SchedulerSender = Pick<SchedulerClient, "send">;

/** The CreateSchedule (and, field for field, UpdateSchedule) request of one task's schedule. */
function scheduleRequest(name: string, schedule: EngineSchedule, settings: SchedulerSettings): CreateScheduleInput {
  return {
    Name: name,
    GroupName: settings.groupName,
    ScheduleExpression: schedule.expression,
    ScheduleExpressionTimezone: schedule.timezone,
    StartDate: schedule.startDate,
    State: schedule.enabled ? "ENABLED" : "DISABLED",
    FlexibleTimeWindow:
      schedule.windowMinutes > 0
        ? { Mode: "FLEXIBLE", MaximumWindowInMinutes: schedule.windowMinutes }
        : { Mode: "OFF" },
    Target: {
      Arn: settings.targetArn,
      RoleArn: settings.roleArn,
      Input: runInputText(schedule.input, SCHEDULED_TIME_PLACEHOLDER),
      // The next scheduled time is the retry: a run is never delivered twice on purpose.
      RetryPolicy: { MaximumRetryAttempts: 0 },
      DeadLetterConfig: { Arn: settings.deadLetterArn },
    },
    ActionAfterCompletion: "NONE",
  };
}

/**
 * EventBridge Scheduler as the engine: one schedule per task in the stack's group. `put` updates
 * the schedule and creates it when it is not there (and updates it when a concurrent put created
 * it first); `delete` of a schedule that is not there succeeds.
 */
export function awsScheduleEngine(
  settings: SchedulerSettings,
  // Short timeouts: a hung call must leave the API function time to answer 503 before API Gateway's 29 s.
  client: SchedulerSender = new SchedulerClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
  }),
): ScheduleEngine {
  const update = (request: CreateScheduleInput) => client.send(new UpdateScheduleCommand(request));
  return {
    async put(name, schedule) {
      const request = scheduleRequest(name, schedule, settings);
      try {
        await update(request);
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        try {
          await client.send(new CreateScheduleCommand(request));
        } catch (createError) {
          if (!(createError instanceof ConflictException)) throw createError;
          await update(request);
        }
      }
    },
    async delete(name) {
      try {
        await client.send(new DeleteScheduleCommand({ Name: name, GroupName: settings.groupName }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    },
    async has(name) {
      try {
        await client.send(new GetScheduleCommand({ Name: name, GroupName: settings.groupName }));
        return true;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return false;
        throw error;
      }
    },
  };
}
