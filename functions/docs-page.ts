import { basePathOf, docsAnswer } from "../lib/contract/index.ts";
import { httpService } from "../lib/http/index.ts";

/** GET /docs — Swagger UI over GET /openapi.json, and with `?asset=` its files (lib/contract/docs-page.ts). */
export const handler = httpService({ withBody: false }).handler(async (event) =>
  docsAnswer(event.queryStringParameters?.asset, basePathOf(event.requestContext?.path)),
);
