import { httpService, ok } from "../lib/http.ts";
import { setPageResponse } from "../lib/responses.ts";
import { store } from "../lib/runtime.ts";
import { parseListQuery } from "../lib/validate.ts";

/** GET /training/tasks/sets?task_id=…&set_type_id=N — one page of one set, in order_id order. */
export const handler = httpService({ withBody: false }).handler(async (event) => {
  const query = parseListQuery(event.queryStringParameters);
  const page = await store.listSet(query);
  return ok(setPageResponse(page, query.setType));
});
