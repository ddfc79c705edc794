import { httpService, ok } from "../lib/http.ts";
import { idempotent, splitAnswers } from "../lib/idempotency.ts";
import { splitResponse } from "../lib/responses.ts";
import { deadlineOf, fieldPolicy, store } from "../lib/runtime.ts";
import { splitTask } from "../lib/split.ts";
import { parseSplitSpec } from "../lib/validate.ts";

/**
 * PUT /training/tasks/sets — split a task's images at random into the three sets. With an
 * Idempotency-Key, a retry replays the first split's answer (a big one rebuilt from its version).
 */
export const handler = httpService({ withBody: true })
  .use(idempotent({ route: "SplitTask", storage: store.config, bigAnswers: splitAnswers(store) }))
  .handler(async (event, context) => {
    const request = parseSplitSpec(event.body, fieldPolicy);
    const split = await splitTask(store, request, deadlineOf(context));
    // The legacy request gets the legacy answer; ratios or an option add the planner's account.
    const withDetails = request.counts === undefined || request.options !== undefined;
    return ok(splitResponse(split, { withDetails, maxAnswerBytes: store.config.maxAnswerBytes }));
  });
