/**
 * The contract: the OpenAPI 3.1 document (`openapi.ts`: the paths and the document) built in code
 * from the route table (lib/routes.ts), the error catalogue (`errors.ts`), the request fields and
 * the domain schemas (`schemas.ts`), with examples (`examples.ts`) and small JSON Schema builders
 * (`shapes.ts`). Served at GET /openapi.json and by the docs page, and the source of the typed
 * client; every HTTP test checks each answer it receives against it.
 */
export { openApiDocument } from "./openapi.ts";
