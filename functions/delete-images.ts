import { deleteResponse, httpService, idempotent, inTenant, ok, parseDeleteRequest } from "../lib/http/index.ts";
import { deadlineOf, fieldPolicy, store, tenancy } from "../lib/runtime.ts";

/** DELETE /training/tasks/images — logical deletion of images of a task; with an Idempotency-Key, once per key. */
export const handler = httpService({ withBody: true, tenancy })
  .use(idempotent({ route: "DeleteImages", storage: store.config }))
  .handler(async (event, context) => {
    const result = await store.deleteImages(
      inTenant(event, parseDeleteRequest(event.body, fieldPolicy)),
      deadlineOf(context),
    );
    return ok(deleteResponse(result));
  });
