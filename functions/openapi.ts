import { openApiDocument } from "../lib/contract/index.ts";
import { httpService, ok } from "../lib/http/index.ts";

/** Built once per container: the document does not change while the code does not. */
const document = openApiDocument();

/** GET /openapi.json — the API's contract, OpenAPI 3.1 (lib/contract/openapi.ts). */
export const handler = httpService({ withBody: false }).handler(async () => ok(document));
