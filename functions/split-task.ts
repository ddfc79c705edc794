import {
  answersDetails,
  beforePublishOf,
  httpService,
  idempotent,
  inTenant,
  ok,
  parseSplitSpec,
  splitResponse,
} from "../lib/http/index.ts";
import { deadlineOf, fieldPolicy, maxAnswerBytes, store, tenancy } from "../lib/runtime.ts";
import { splitReplays, splitTask } from "../lib/split/index.ts";

/**
 * PUT /training/tasks/sets — split a task's images at random into the three sets. With an
 * Idempotency-Key, the split is named in the key's record before it publishes, and a retry
 * replays the first split's answer (a big or lost one rebuilt from its record and snapshot).
 */
export const handler = httpService({ withBody: true, tenancy })
  .use(idempotent({ route: "SplitTask", storage: store.config, splits: splitReplays(store, maxAnswerBytes) }))
  .handler(async (event, context) => {
    const request = inTenant(event, parseSplitSpec(event.body, fieldPolicy));
    const nameSplit = beforePublishOf(event);
    const split = await splitTask(store, request, deadlineOf(context), {
      beforePublish: nameSplit && ((ref) => nameSplit({ task_id: request.taskId, ...ref })),
    });
    return ok(splitResponse(split, { withDetails: answersDetails(request), maxAnswerBytes }));
  });
