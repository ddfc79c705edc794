/**
 * The HTTP edge of the functions: request parsing and validation (each request's fields, the
 * legacy error order), cursors, and the Idempotency-Key middleware with its own records. The
 * middy composition and the answer bodies (`lib/http/service.ts`, `lib/http/answers.ts`) belong here too.
 */
export {
  answersDetails,
  deleteResponse,
  imagePageBudget,
  imagePageResponse,
  imageResponse,
  registerResponse,
  setPageBudget,
  setPageResponse,
  splitResponse,
  summaryResponse,
} from "./answers.ts";
export { beforePublishOf, idempotent } from "./idempotency.ts";
export { parseImagesQuery, parseSetsQuery } from "./queries.ts";
export { httpService, ok } from "./service.ts";
export { inTenant } from "./tenancy.ts";
export { parseDeleteRequest, parseRegisterRequest, parseSplitSpec } from "./validate.ts";
