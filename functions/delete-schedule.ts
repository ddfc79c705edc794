import { httpService, inTenant, ok } from "../lib/http/index.ts";
import { parseScheduleQuery } from "../lib/http/schedule-request.ts";
import { deadlineOf, fieldPolicy, store, tenancy } from "../lib/runtime.ts";
import { DELETE_MSG, deleteSchedule, scheduleEngine } from "../lib/schedule/index.ts";
import { shownTaskId } from "../lib/store/task-key.ts";

/** DELETE /training/tasks/schedule?task_id=… — the schedule stops; `deleted: false` when there was none. */
export const handler = httpService({ withBody: false, tenancy }).handler(async (event, context) => {
  const { taskId } = inTenant(event, parseScheduleQuery(event.queryStringParameters, fieldPolicy));
  const deleted = await deleteSchedule(store.schedules, scheduleEngine(), taskId, deadlineOf(context));
  return ok({ code: 0, msg: DELETE_MSG, task_id: shownTaskId(taskId), deleted });
});
