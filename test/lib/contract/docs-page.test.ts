import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { basePathOf, DOCS_ASSETS, docsAnswer, docsPage } from "../../../lib/contract/docs-page.ts";
import { openApiDocument } from "../../../lib/contract/openapi.ts";
import { ServiceError } from "../../../lib/errors.ts";

const distDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

describe("the docs page", () => {
  it("is HTML loading its two files and the document under the base path, and nothing from elsewhere", async () => {
    const answer = await docsAnswer(undefined, "/v1");
    expect(answer.statusCode).toBe(200);
    expect(answer.headers["Content-Type"]).toBe("text/html; charset=utf-8");
    expect(answer.body).toContain('href="/v1/docs?asset=swagger-ui.css"');
    expect(answer.body).toContain('src="/v1/docs?asset=swagger-ui-bundle.js"');
    expect(answer.body).toContain('url: "/v1/openapi.json"');
    expect(answer.body).toContain("validatorUrl: null");
    const urls = [...answer.body.matchAll(/(?:href|src|url:)\s*=?\s*"([^"]*)"/g)].map((match) => match[1]);
    expect(
      urls.every((url) => url?.startsWith("/v1/") || url === "data:,"),
      urls.join(" "),
    ).toBe(true);
    expect(docsPage("")).toContain('url: "/openapi.json"');
  });

  it.each(DOCS_ASSETS)(
    "answers ?asset=%s with the file of swagger-ui-dist, its type and a cache lifetime",
    async (name) => {
      const answer = await docsAnswer(name, "");
      expect(answer.statusCode).toBe(200);
      expect(answer.headers["Content-Type"]).toBe(
        name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
      );
      expect(answer.headers["Cache-Control"]).toBe("public, max-age=3600");
      expect(answer.body).toBe(readFileSync(join(distDir, name), "utf8"));
    },
  );

  it("refuses any other asset as 1013 (404) naming the two, an inherited name or a path included", async () => {
    for (const asset of ["swagger-ui.js", "../package.json", "toString", "__proto__", "", "x".repeat(5000)]) {
      const error = await docsAnswer(asset, "").catch((caught: unknown) => caught);
      expect(error, asset).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).code).toBe(1013);
      expect((error as ServiceError).status).toBe(404);
      expect((error as ServiceError).detail).toMatch(/the page loads swagger-ui\.css and swagger-ui-bundle\.js$/);
      expect(((error as ServiceError).detail ?? "").length).toBeLessThan(300);
    }
  });

  it("lists in the document exactly the assets it serves", () => {
    const asset = openApiDocument().paths["/docs"]?.get?.parameters?.find((parameter) => parameter.name === "asset");
    expect(asset?.schema.enum).toEqual(DOCS_ASSETS);
  });
});

describe("the base path of a /docs request", () => {
  it.each([
    ["/docs", ""],
    ["/docs/", ""],
    ["/v1/docs", "/v1"],
    ["/api/v1/docs", "/api/v1"],
    [undefined, ""],
    ["", ""],
  ])("%s → %j", (path, base) => {
    expect(basePathOf(path)).toBe(base);
  });

  it("is empty for anything but plain path segments, so nothing reaches the page's markup", () => {
    for (const path of ['/v1"><script>/docs', "/v 1/docs", "//docs", "/a%22/docs", "/v1/docs/x", "/v1/openapi.json"])
      expect(basePathOf(path), path).toBe("");
  });
});
