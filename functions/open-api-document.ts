import { openApiDocument, readApiAuth } from "../lib/contract/index.ts";
import { httpService, ok } from "../lib/http/index.ts";

/** Built once per container: the document does not change while the code and the stack's auth setting (API_AUTH) do not. */
const document = openApiDocument({ auth: readApiAuth() });

/** GET /openapi.json — the API's contract, OpenAPI 3.1 (lib/contract/openapi.ts), declaring how to authenticate. */
export const handler = httpService({ withBody: false }).handler(async () => ok(document));
