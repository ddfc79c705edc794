import { httpService, inTenant, ok } from "../lib/http/index.ts";
import { parseScheduleRequest } from "../lib/http/schedule-request.ts";
import { deadlineOf, fieldPolicy, store, tenancy } from "../lib/runtime.ts";
import { SET_MSG, scheduleBody, scheduleEngine, setSchedule } from "../lib/schedule/index.ts";

/**
 * PUT /training/tasks/schedule — creates or replaces the task's schedule: the schedule item first,
 * then EventBridge Scheduler; 200 only when both have it (else 503, and the same PUT completes it).
 */
export const handler = httpService({ withBody: true, tenancy }).handler(async (event, context) => {
  const { taskId, ...settings } = inTenant(event, parseScheduleRequest(event.body, fieldPolicy));
  const now = new Date();
  const schedule = await setSchedule(store.schedules, scheduleEngine(), taskId, settings, now, deadlineOf(context));
  return ok({ code: 0, msg: SET_MSG, ...scheduleBody(taskId, schedule, now) });
});
