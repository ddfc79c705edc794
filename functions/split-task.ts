import { httpService, ok } from "../lib/http.ts";
import { splitResponse } from "../lib/responses.ts";
import { store } from "../lib/runtime.ts";
import { parseSplitSpec } from "../lib/validate.ts";

/** PUT /training/tasks/sets — split a task's images at random into the three sets. */
export const handler = httpService({ withBody: true }).handler(async (event) => {
  const request = parseSplitSpec(event.body);
  const split = await store.splitTask(request);
  // The seed's own request gets the seed's answer; ratios or an option add the planner's account.
  return ok(splitResponse(split, request.counts === undefined || request.options !== undefined));
});
