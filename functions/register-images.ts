import { httpService, ok } from "../lib/http.ts";
import { registerResponse } from "../lib/responses.ts";
import { store } from "../lib/runtime.ts";
import { parseRegisterRequest } from "../lib/validate.ts";

/** POST /training/tasks/images — register (upsert) images of a task. */
export const handler = httpService({ withBody: true }).handler(async (event) => {
  const result = await store.registerImages(parseRegisterRequest(event.body));
  return ok(registerResponse(result));
});
