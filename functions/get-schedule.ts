import { httpService, inTenant, ok } from "../lib/http/index.ts";
import { parseScheduleQuery } from "../lib/http/schedule-request.ts";
import { deadlineOf, fieldPolicy, store, tenancy } from "../lib/runtime.ts";
import { READ_MSG, readSchedule, runsBody, scheduleBody } from "../lib/schedule/index.ts";

/** GET /training/tasks/schedule?task_id=… — the task's schedule, its next run and its last 20 runs, newest first. */
export const handler = httpService({ withBody: false, tenancy }).handler(async (event, context) => {
  const { taskId } = inTenant(event, parseScheduleQuery(event.queryStringParameters, fieldPolicy));
  const now = new Date();
  const { schedule, runs } = await readSchedule(store.schedules, taskId, deadlineOf(context));
  return ok({ code: 0, msg: READ_MSG, ...scheduleBody(taskId, schedule, now), runs: runsBody(runs, now) });
});
