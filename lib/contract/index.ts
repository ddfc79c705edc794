/**
 * The contract: the OpenAPI 3.1 document built in code from the route table, the error catalogue
 * and the request fields, served at GET /openapi.json and by the docs page, and the source of the
 * typed client. Every HTTP test checks each answer it receives against it.
 */
export { openApiDocument } from "./openapi.ts";
