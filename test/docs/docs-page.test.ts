import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLING } from "../../infra/bundling.ts";
import { ROUTES } from "../../lib/routes.ts";
import { lambdaContext } from "../../scripts/lambda.ts";
import { type ProxyHandler, toProxyEvent } from "../../scripts/local-gateway.ts";
import { PROJECT_ROOT } from "../../scripts/project-root.ts";
import { startApi } from "../support/http.ts";

/** Debian's chromium (`apt-get install chromium`); .ci/run installs it, elsewhere the test says it is skipped. */
const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
if (!present) console.warn(`SKIPPED test/docs/docs-page.test.ts: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** The routes the page needs, bundled as the stack bundles them for Lambda (infra/bundling.ts). */
const PAGE_ROUTES = ROUTES.filter((route) => route.name === "DocsPage" || route.name === "OpenApiDocument");
const STAGE = "v1";

/** Inside the project, so the bundles resolve @aws-sdk/* from node_modules as Lambda's runtime provides it. */
const bundleDir = join(PROJECT_ROOT, "node_modules", ".cache");
mkdirSync(bundleDir, { recursive: true });
const bundles = mkdtempSync(join(bundleDir, "docs-page-bundles-"));
const bundleOf = (name: string) => join(bundles, `${name}.mjs`);
const swaggerDist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const swaggerFile = (name: string) => readFileSync(join(swaggerDist, name), "utf8");

let bundled: Record<string, ProxyHandler>;
let stage: { server: Server; base: string };

/**
 * API Gateway in front of the bundled functions: `/v1/<path>` becomes the proxy event of the route
 * with that path, with requestContext.path the full path as on the stage's own host.
 */
function startStage(handlers: Record<string, ProxyHandler>): Promise<{ server: Server; base: string }> {
  const server = createServer(async (request, response) => {
    const url = new URL(`http://localhost${request.url}`);
    const path = url.pathname.slice(STAGE.length + 1);
    const route = PAGE_ROUTES.find((candidate) => candidate.method === request.method && candidate.path === path);
    if (!url.pathname.startsWith(`/${STAGE}/`) || !route) {
      response.writeHead(404).end();
      return;
    }
    const requestId = randomUUID();
    const event = toProxyEvent(request, new URL(`${path}${url.search}`, url), Buffer.alloc(0), route, requestId);
    event.requestContext.path = url.pathname;
    event.requestContext.stage = STAGE;
    const result = await (handlers[route.name] as ProxyHandler)(event, lambdaContext(route.name, requestId));
    response.writeHead(result.statusCode, result.headers as Record<string, string>).end(result.body);
  });
  return new Promise((listening) =>
    server.listen(0, "127.0.0.1", () =>
      listening({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

beforeAll(async () => {
  for (const route of PAGE_ROUTES) {
    await build({
      entryPoints: [join(PROJECT_ROOT, route.entry)],
      outfile: bundleOf(route.name),
      bundle: true,
      platform: "node",
      format: BUNDLING.format,
      target: BUNDLING.target,
      minify: BUNDLING.minify,
      external: [...BUNDLING.externalModules],
      mainFields: [...BUNDLING.mainFields],
      banner: { js: BUNDLING.banner },
      logLevel: "silent",
    });
  }
  bundled = Object.fromEntries(
    await Promise.all(
      PAGE_ROUTES.map(async (route) => {
        const module = (await import(pathToFileURL(bundleOf(route.name)).href)) as { handler: ProxyHandler };
        return [route.name, module.handler] as const;
      }),
    ),
  );
  stage = await startStage(bundled);
});
afterAll(async () => {
  await new Promise((closed) => stage?.server.close(closed));
  rmSync(bundles, { recursive: true, force: true });
});

describe("the DocsPage function as bundled for Lambda", () => {
  it("carries Swagger UI's files in its bundle and answers them as swagger-ui-dist has them", async () => {
    const js = swaggerFile("swagger-ui-bundle.js");
    expect(statSync(bundleOf("DocsPage")).size).toBeGreaterThan(js.length);
    for (const [asset, type] of [
      ["swagger-ui.css", "text/css; charset=utf-8"],
      ["swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
    ] as const) {
      const response = await fetch(`${stage.base}/${STAGE}/docs?asset=${asset}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(type);
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(await response.text()).toBe(swaggerFile(asset));
    }
  });

  it("answers an unknown asset 1013 (404) in the service's JSON", async () => {
    const response = await fetch(`${stage.base}/${STAGE}/docs?asset=swagger-ui.js`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await response.json()).toEqual({
      code: 1013,
      msg: "接口不存在",
      detail: 'no asset "swagger-ui.js" on /docs: the page loads swagger-ui.css and swagger-ui-bundle.js',
    });
  });
});

describe.skipIf(!present)("the docs page (GET /docs) in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "training-sets-docs-"));
  let browser: BrowserContext;

  beforeAll(async () => {
    // A fresh profile (playwright passes it as --user-data-dir); no network but ours.
    browser = await chromium.launchPersistentContext(mkdtempSync(join(dir, "profile-")), {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 2000 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens `url`, waits for the operations, and returns the page, its text and every URL it loaded with its status. */
  async function open(url: string) {
    const page = await browser.newPage();
    const loaded: string[] = [];
    page.on("response", (response) => void loaded.push(`${response.status()} ${response.url()}`));
    await page.goto(url);
    await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
    const text = (await page.locator("#swagger-ui").textContent()) ?? "";
    return { page, text, loaded };
  }

  function expectOperations(text: string) {
    for (const route of ["/training/tasks/sets", "/training/tasks/images", "/openapi.json", "/docs"])
      expect(text).toContain(route);
    for (const method of ["PUT", "GET", "POST", "DELETE"]) expect(text).toContain(method);
    expect(text).toContain("1010");
    expect(text).toContain("获取 任务id为 {task_id}，属于集合 {set_type_id}，的图像的相关数据 失败");
  }

  async function screenshot(page: Page, name: string): Promise<string> {
    const file = join(dir, name);
    await page.screenshot({ path: file });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    console.log(`docs page screenshot: ${file}`);
    return file;
  }

  it("served by the bundled functions under a stage: the operations, the SigV4 scheme, every file from the stage", async () => {
    const { page, text, loaded } = await open(`${stage.base}/${STAGE}/docs`);
    expectOperations(text);
    // The page opens on the routes: the first operation is on the first screen, the error table folded.
    const firstRoute = await page.locator(".opblock").first().boundingBox();
    expect(firstRoute?.y).toBeLessThan(page.viewportSize()?.height ?? 720);
    expect(await page.locator("details", { hasText: "Error codes" }).getAttribute("open")).toBeNull();
    // The document declares a security scheme (IAM, the default): Swagger UI offers to authorize.
    await page.locator(".btn.authorize").waitFor({ timeout: 10_000 });
    await page.locator(".btn.authorize").click();
    expect(await page.locator(".auth-container").first().textContent()).toContain("sigv4");
    expect(loaded.sort()).toEqual(
      [
        `200 ${stage.base}/${STAGE}/docs`,
        `200 ${stage.base}/${STAGE}/docs?asset=swagger-ui-bundle.js`,
        `200 ${stage.base}/${STAGE}/docs?asset=swagger-ui.css`,
        `200 ${stage.base}/${STAGE}/openapi.json`,
      ].sort(),
    );
    await screenshot(page, "docs-page-stage.png");
  });

  describe("from npm start's gateway", () => {
    let api: Awaited<ReturnType<typeof startApi>>;
    beforeAll(async () => {
      api = await startApi();
    });
    afterAll(async () => {
      await api?.close();
    });

    it("is the same page, loading nothing from outside", async () => {
      const { page, text, loaded } = await open(`${api.base}/docs`);
      expectOperations(text);
      expect(loaded.sort()).toEqual(
        [
          `200 ${api.base}/docs`,
          `200 ${api.base}/docs?asset=swagger-ui-bundle.js`,
          `200 ${api.base}/docs?asset=swagger-ui.css`,
          `200 ${api.base}/openapi.json`,
        ].sort(),
      );
      const file = await screenshot(page, "docs-page.png");
      // DOCS_SCREENSHOT=1 refreshes the picture in docs/api.md.
      if (process.env.DOCS_SCREENSHOT === "1") copyFileSync(file, new URL("../../docs/docs-page.png", import.meta.url));
    });
  });
});
