/**
 * The contract: the OpenAPI 3.1 document (`openapi.ts`: the paths and the document) built in code
 * from the route table (lib/routes.ts), the error catalogue (`errors.ts`), the request fields and
 * the domain schemas (`schemas.ts`), with examples (`examples.ts`), small JSON Schema builders
 * (`shapes.ts`) and the security scheme of the stack's auth setting (`security.ts`). Served at
 * GET /openapi.json and by the docs page (`docs-page.ts`, GET /docs), and the source of the typed
 * client; every HTTP test checks each answer it receives against it.
 */
export { basePathOf, docsAnswer } from "./docs-page.ts";
export { openApiDocument } from "./openapi.ts";
export { readApiAuth } from "./security.ts";
