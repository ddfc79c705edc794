/**
 * `tsx scripts/openapi-documents.ts <dir>`: writes the OpenAPI document of each auth setting
 * (lib/contract/openapi.ts) to <dir>/openapi-<setting>.json, emptying <dir> first. `npm run
 * lint:api` lints them with Redocly's recommended rules (redocly.yaml).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { openApiDocument } from "../lib/contract/openapi.ts";
import { API_AUTH_SETTINGS } from "../lib/contract/security.ts";

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error("usage: tsx scripts/openapi-documents.ts <dir>");
  process.exit(2);
}
rmSync(resolve(dir), { recursive: true, force: true });
mkdirSync(resolve(dir), { recursive: true });
for (const auth of API_AUTH_SETTINGS) {
  writeFileSync(join(resolve(dir), `openapi-${auth}.json`), `${JSON.stringify(openApiDocument({ auth }), null, 2)}\n`);
}
