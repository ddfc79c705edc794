import { httpService, ok } from "../lib/http.ts";
import { splitResponse } from "../lib/responses.ts";
import { store } from "../lib/runtime.ts";
import { parseSplitRequest } from "../lib/validate.ts";

/** PUT /training/tasks/sets — split a task's images at random into the three sets. */
export const handler = httpService({ withBody: true }).handler(async (event) => {
  const split = await store.splitTask(parseSplitRequest(event.body));
  return ok(splitResponse(split));
});
