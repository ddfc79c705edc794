import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { DOCS_PATH, docsAnswer } from "../lib/contract/index.ts";
import { errorResponse, REQUEST_ID_HEADER } from "../lib/http/service.ts";

/**
 * GET /docs on the local server: the answer of the deployed DocsPage function
 * (lib/contract/docs-page.ts), the page and, with `?asset=`, its files; false for any other request.
 */
export async function serveDocs(method: string | undefined, path: string, response: ServerResponse): Promise<boolean> {
  if (method !== "GET" || path !== DOCS_PATH) return false;
  const requestId = randomUUID();
  const asset = new URL(response.req.url ?? "/", "http://localhost").searchParams.get("asset") ?? undefined;
  const answer = await docsAnswer(asset, "").catch((error: unknown) => errorResponse(error, requestId));
  response.writeHead(answer.statusCode, { ...answer.headers, [REQUEST_ID_HEADER]: requestId });
  response.end(answer.body);
  return true;
}
