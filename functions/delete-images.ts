import { httpService, ok } from "../lib/http.ts";
import { idempotent } from "../lib/idempotency.ts";
import { deleteResponse } from "../lib/responses.ts";
import { deadlineOf, fieldPolicy, store } from "../lib/runtime.ts";
import { parseDeleteRequest } from "../lib/validate.ts";

/** DELETE /training/tasks/images — logical deletion of images of a task; with an Idempotency-Key, once per key. */
export const handler = httpService({ withBody: true })
  .use(idempotent({ route: "DeleteImages", storage: store.config }))
  .handler(async (event, context) => {
    const result = await store.deleteImages(parseDeleteRequest(event.body, fieldPolicy), deadlineOf(context));
    return ok(deleteResponse(result));
  });
