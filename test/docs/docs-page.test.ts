import { copyFileSync, existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../support/http.ts";

/** Debian's chromium (`apt-get install chromium`); .ci/run installs it, elsewhere the test says it is skipped. */
const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
if (!present) console.warn(`SKIPPED test/docs/docs-page.test.ts: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!present)("the docs page (GET /docs) in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "training-sets-docs-"));
  let api: Awaited<ReturnType<typeof startApi>>;
  let browser: BrowserContext;

  beforeAll(async () => {
    api = await startApi();
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
    await api?.close();
  });

  it("shows the three routes and the error codes, loading nothing from outside", async () => {
    const page = await browser.newPage();
    const outside: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(api.base) && !request.url().startsWith("data:")) outside.push(request.url());
    });
    await page.goto(`${api.base}/docs`);
    await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
    const text = (await page.locator("#swagger-ui").textContent()) ?? "";
    for (const route of ["/training/tasks/sets", "/training/tasks/images", "/openapi.json"])
      expect(text).toContain(route);
    for (const method of ["PUT", "GET", "POST"]) expect(text).toContain(method);
    expect(text).toContain("1010");
    expect(text).toContain("获取 任务id为 {task_id}，属于集合 {set_type_id}，的图像的相关数据 失败");
    expect(outside).toEqual([]);

    const screenshot = join(dir, "docs-page.png");
    await page.screenshot({ path: screenshot });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    // DOCS_SCREENSHOT=1 refreshes the picture in docs/api.md.
    if (process.env.DOCS_SCREENSHOT === "1")
      copyFileSync(screenshot, new URL("../../docs/docs-page.png", import.meta.url));
    console.log(`docs page screenshot: ${screenshot}`);
  });
});
