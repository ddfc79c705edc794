import {
  httpService,
  imagePageBudget,
  imagePageResponse,
  imageResponse,
  inTenant,
  ok,
  parseImagesQuery,
} from "../lib/http/index.ts";
import { deadlineOf, fieldPolicy, maxAnswerBytes, store, tenancy } from "../lib/runtime.ts";

/**
 * GET /training/tasks/images?task_id=…&img_id=… — one image and its set in the live split;
 * without img_id, one page of the task's images in order_id order.
 */
export const handler = httpService({ withBody: false, tenancy }).handler(async (event, context) => {
  const query = inTenant(event, parseImagesQuery(event.queryStringParameters, fieldPolicy));
  const deadline = deadlineOf(context);
  if (query.imgId !== undefined) {
    return ok(imageResponse(query.taskId, await store.getImage(query.taskId, query.imgId, deadline)));
  }
  return ok(imagePageResponse(await store.listImages(query, deadline, imagePageBudget(maxAnswerBytes))));
});
