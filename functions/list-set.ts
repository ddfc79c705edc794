import {
  httpService,
  inTenant,
  ok,
  parseSetsQuery,
  setPageBudget,
  setPageResponse,
  summaryResponse,
} from "../lib/http/index.ts";
import { deadlineOf, fieldPolicy, maxAnswerBytes, store, tenancy } from "../lib/runtime.ts";

/**
 * GET /training/tasks/sets?task_id=…&set_type_id=N — one page of one set, in order_id order;
 * without set_type_id, the task's live split and its recent history.
 */
export const handler = httpService({ withBody: false, tenancy }).handler(async (event, context) => {
  const query = inTenant(event, parseSetsQuery(event.queryStringParameters, fieldPolicy));
  const deadline = deadlineOf(context);
  if (query.setType === undefined) return ok(summaryResponse(await store.taskSummary(query.taskId, deadline)));
  const page = await store.listSet(query, deadline, setPageBudget(query.setType, maxAnswerBytes));
  return ok(setPageResponse(page, query.setType));
});
