import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ServiceError } from "../errors.ts";

/**
 * GET /docs: Swagger UI (the swagger-ui-dist package) over GET /openapi.json, and with
 * `?asset=<name>` the two files the page loads, so nothing comes from a CDN; `validatorUrl: null`
 * keeps it from calling swagger.io. The deployed function (functions/docs-page.ts) and `npm start`
 * (scripts/docs-page.ts) both answer with `docsAnswer`.
 */
export const DOCS_PATH = "/docs";

/** The files the page loads, by the name it asks for, with their types. */
const ASSET_TYPES = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
} as const;

export type DocsAsset = keyof typeof ASSET_TYPES;
export const DOCS_ASSETS = Object.keys(ASSET_TYPES) as DocsAsset[];

/**
 * The files as esbuild inlines them into the Lambda bundle (import attributes, `type: "text"`).
 * Node cannot import text, so run from source (`npm start`, the tests) they are read from
 * node_modules instead.
 */
const BUNDLED: Record<DocsAsset, () => Promise<{ default: string }>> = {
  "swagger-ui.css": () => import("swagger-ui-dist/swagger-ui.css", { with: { type: "text" } }),
  "swagger-ui-bundle.js": () => import("swagger-ui-dist/swagger-ui-bundle.js", { with: { type: "text" } }),
};
const fromSource = import.meta.url.endsWith(".ts");

const loaded = new Map<DocsAsset, Promise<string>>();

function assetText(name: DocsAsset): Promise<string> {
  let text = loaded.get(name);
  if (!text) {
    text = fromSource
      ? readFile(join(dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json")), name), "utf8")
      : BUNDLED[name]().then((module) => module.default);
    loaded.set(name, text);
  }
  return text;
}

/** The page, its URLs under `base`: the stage's path ("/v1"), "" on the local server. */
export function docsPage(base: string): string {
  const asset = (name: DocsAsset) => `${base}${DOCS_PATH}?asset=${name}`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>training-sets API</title>
  <link rel="stylesheet" href="${asset("swagger-ui.css")}">
  <link rel="icon" href="data:,">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${asset("swagger-ui-bundle.js")}"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "${base}/openapi.json",
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
}

/**
 * The path in front of /docs as the caller sees it, from the request's full path (API Gateway's
 * `requestContext.path`: "/v1/docs" on the stage's own host, with the base path on a custom
 * domain): "/v1"; "" when there is none, or when it is anything but plain path segments ending in /docs.
 */
export function basePathOf(requestPath: string | undefined): string {
  return /^((?:\/[A-Za-z0-9._~-]+)*)\/docs\/?$/.exec(requestPath ?? "")?.[1] ?? "";
}

export interface DocsAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** What GET /docs answers: the page, or with `asset` one of its files; any other asset is 1013 (404). */
export async function docsAnswer(asset: string | undefined, base: string): Promise<DocsAnswer> {
  if (asset === undefined) {
    return { statusCode: 200, headers: { "Content-Type": "text/html; charset=utf-8" }, body: docsPage(base) };
  }
  if (!Object.hasOwn(ASSET_TYPES, asset)) {
    const detail = `no asset ${JSON.stringify(asset.slice(0, 100))} on ${DOCS_PATH}: the page loads ${DOCS_ASSETS.join(" and ")}`;
    throw new ServiceError(1013, {}, { status: 404, detail });
  }
  const name = asset as DocsAsset;
  return {
    statusCode: 200,
    headers: { "Content-Type": ASSET_TYPES[name], "Cache-Control": "public, max-age=3600" },
    body: await assetText(name),
  };
}
