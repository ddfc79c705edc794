import { ServiceError } from "../errors.ts";
import type { RunRecord, ScheduleItem, ScheduleStore } from "../store/index.ts";
import { shownTaskId } from "../store/task-key.ts";
import type { ScheduleEngine } from "./engine.ts";
import { parseExpression } from "./expression.ts";
import { scheduleName } from "./name.ts";
import { startDateFor } from "./next-run.ts";
import { engineScheduleOf, type ScheduleSettings, sameSettings } from "./timing.ts";

/** Writes that another request's write can beat before this one gives up (503). */
const ATTEMPTS = 3;

/** The engine did not take the change: the schedule item says so (`pending`) and the same request completes it. */
const engineFailed = (cause: unknown, what: string) =>
  new ServiceError(
    1500,
    {},
    {
      status: 503,
      retryAfter: 1,
      cause,
      detail: `the schedule is saved but ${what} did not reach the scheduler: send the same request again to complete it`,
    },
  );

const raced = () =>
  new ServiceError(
    1500,
    {},
    { status: 503, retryAfter: 1, detail: "the schedule was changed by other requests meanwhile: send it again" },
  );

/** Whether the engine holds the schedule; the engine's failure is 503, like a failed write. */
async function holds(engine: ScheduleEngine, name: string): Promise<boolean> {
  try {
    return await engine.has(name);
  } catch (error) {
    throw engineFailed(error, "the check of its timetable");
  }
}

/** Writes a stored schedule to the engine, then marks it active; the engine's failure is 503. */
async function complete(
  schedules: ScheduleStore,
  engine: ScheduleEngine,
  taskKey: string,
  schedule: ScheduleItem,
  now: Date,
  deadline: number | undefined,
): Promise<ScheduleItem> {
  try {
    await engine.put(scheduleName(taskKey), engineScheduleOf(taskKey, schedule, now));
  } catch (error) {
    throw engineFailed(error, "its timetable");
  }
  await schedules.mark(taskKey, schedule.revision, "active", deadline);
  return { ...schedule, state: "active" };
}

/**
 * PUT: stores the schedule (a new revision, `pending`, with the start date the service gives it),
 * then writes it to the engine, then marks it `active`. The same settings again write nothing when
 * the schedule is active, and complete it when a failure left it pending.
 */
export async function setSchedule(
  schedules: ScheduleStore,
  engine: ScheduleEngine,
  taskKey: string,
  settings: ScheduleSettings,
  now: Date,
  deadline?: number,
): Promise<ScheduleItem> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const stored = await schedules.read(taskKey, deadline);
    const current = stored?.state === "deleted" ? undefined : stored;
    if (current && sameSettings(current, settings)) {
      // Active in the table is not enough: a stack rebuilt over the kept table has an empty group.
      const whole = current.state === "active" && (await holds(engine, scheduleName(taskKey)));
      return whole ? current : complete(schedules, engine, taskKey, current, now, deadline);
    }
    const schedule: ScheduleItem = {
      ...settings,
      startDate: startDateFor(parseExpression(settings.expression), now).toISOString(),
      revision: (stored?.revision ?? 0) + 1,
      state: "pending",
      updatedAt: now.toISOString(),
    };
    if (await schedules.write(taskKey, schedule, stored?.revision ?? 0, deadline)) {
      return complete(schedules, engine, taskKey, schedule, now, deadline);
    }
  }
  throw raced();
}

/** The task's schedule with its newest runs; 1029 when it has none. */
export async function readSchedule(
  schedules: ScheduleStore,
  taskKey: string,
  deadline?: number,
): Promise<{ schedule: ScheduleItem; runs: RunRecord[] }> {
  const [schedule, runs] = await Promise.all([
    schedules.read(taskKey, deadline),
    schedules.readRuns(taskKey, deadline),
  ]);
  if (!schedule || schedule.state === "deleted") {
    const taskId = shownTaskId(taskKey);
    throw new ServiceError(1029, { task_id: taskId }, { detail: `task ${taskId} has no schedule` });
  }
  return { schedule, runs };
}

/**
 * DELETE: removes the engine's schedule, then marks the item `deleted` (kept, so a later schedule of
 * the task carries on its revisions and no old delivery can match it). True when there was one.
 */
export async function deleteSchedule(
  schedules: ScheduleStore,
  engine: ScheduleEngine,
  taskKey: string,
  deadline?: number,
): Promise<boolean> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const stored = await schedules.read(taskKey, deadline);
    if (!stored || stored.state === "deleted") return false;
    try {
      await engine.delete(scheduleName(taskKey));
    } catch (error) {
      throw new ServiceError(
        1500,
        {},
        {
          status: 503,
          retryAfter: 1,
          cause: error,
          detail: "the schedule could not be removed from the scheduler: it is unchanged, send the request again",
        },
      );
    }
    if (await schedules.mark(taskKey, stored.revision, "deleted", deadline)) return true;
  }
  throw raced();
}
