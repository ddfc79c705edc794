import { httpService, idempotent, inTenant, ok, parseRegisterRequest, registerResponse } from "../lib/http/index.ts";
import { deadlineOf, fieldPolicy, store, tenancy } from "../lib/runtime.ts";

/** POST /training/tasks/images — register (upsert) images of a task; with an Idempotency-Key, once per key. */
export const handler = httpService({ withBody: true, tenancy })
  .use(idempotent({ route: "RegisterImages", storage: store.config }))
  .handler(async (event, context) => {
    const result = await store.registerImages(
      inTenant(event, parseRegisterRequest(event.body, fieldPolicy)),
      deadlineOf(context),
    );
    return ok(registerResponse(result));
  });
