import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * GET /docs: Swagger UI (the swagger-ui-dist package) over GET /openapi.json, every asset served
 * from node_modules, nothing from a CDN; `validatorUrl: null` keeps it from calling swagger.io.
 */
const assetsDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/** The files the page loads, by the name it asks for, with their types. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

export const DOCS_PATH = "/docs";

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>training-sets API</title>
  <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true,
      docExpansion: "list",
      defaultModelsExpandDepth: 0,
    });
  </script>
</body>
</html>
`;

/** Answers GET /docs and its assets; false when `path` is not one of them. */
export async function serveDocs(method: string | undefined, path: string, response: ServerResponse): Promise<boolean> {
  if (method !== "GET" && method !== "HEAD") return false;
  if (path === DOCS_PATH) {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(method === "HEAD" ? undefined : PAGE);
    return true;
  }
  const name = path.startsWith(`${DOCS_PATH}/`) ? path.slice(DOCS_PATH.length + 1) : undefined;
  const type = name === undefined ? undefined : ASSETS[name];
  if (name === undefined || type === undefined) return false;
  const content = await readFile(join(assetsDir, name));
  response.writeHead(200, { "Content-Type": type, "Cache-Control": "max-age=3600" });
  response.end(method === "HEAD" ? undefined : content);
  return true;
}
