import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../../lib/routes.ts";
import { expectContract } from "../support/http.ts";
import { badRegisterBody, badSplitBody } from "./body-arbitraries.ts";
import {
  bodyCode,
  expectedCodes,
  expectSpecReply,
  fixture,
  GET_CODES,
  IMAGES,
  POST_CODES,
  PUT_CODES,
  SETS,
  table,
  useFuzzedService,
} from "./fuzzed-service.ts";
import { listQuery } from "./query-arbitraries.ts";

const running = useFuzzedService();
let api: ReturnType<typeof running>["api"];
let cursors: { live: string; stale: string };
let before: string;
beforeAll(() => {
  ({ api, cursors, before } = running());
});

interface HttpCase {
  method: string;
  path: string;
  query: string;
  body: string | undefined;
  contentType: string;
  /** Codes the handler may answer when the request is routed to it. */
  codes: readonly number[];
}

const METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const PATHS = [
  SETS,
  `${SETS}/`,
  IMAGES,
  `${IMAGES}//`,
  "/training/tasks",
  "/",
  "/Training/Tasks/Sets",
  "//training/tasks/sets",
  `${SETS}/extra`,
  `${SETS}%2F`,
  `${SETS}/..`,
  "/training/tasks/sets;x",
  "/%E8%AE%AD%E7%BB%83",
];
const ODD_QUERIES = [
  "",
  "?",
  "&&&",
  "task_id",
  "=x",
  "task_id=%E0%A4%A&set_type_id=1",
  "task_id=a&task_id=b&set_type_id=0&set_type_id=9",
  "task_id=fuzz-task&set_type_id=0&limit=1&limit=x",
  "task_id=%00&set_type_id=0",
  "task_id=fuzz%2Dtask&set_type_id=%30",
  "task_id=fuzz-task&set_type_id=0&cursor=%FF%FE",
  `task_id=fuzz-task&set_type_id=0&cursor=${"A".repeat(4000)}`,
  "task_id=+fuzz-task+&set_type_id=+0",
];
const CONTENT_TYPES = [
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=latin1",
  "application/xml",
];

function httpCase(): fc.Arbitrary<HttpCase> {
  const contentType = fc.constantFrom(...CONTENT_TYPES);
  const put = fc.tuple(badSplitBody(fixture), contentType).map(([c, type]) => ({
    method: "PUT",
    path: SETS,
    query: "",
    body: c.text,
    contentType: type,
    codes: [bodyCode(c)],
  }));
  const post = fc.tuple(badRegisterBody(), contentType).map(([c, type]) => ({
    method: "POST",
    path: IMAGES,
    query: "",
    body: c.text,
    contentType: type,
    codes: [bodyCode(c)],
  }));
  // Parameters named like Object.prototype members have a test of their own below.
  const get = listQuery(fixture, cursors)
    .filter((c) => Object.keys(c.query).every((key) => !(key in {})))
    .map((c) => ({
      method: "GET",
      path: SETS,
      query: `?${new URLSearchParams(c.query).toString()}`,
      body: undefined,
      contentType: "application/json",
      codes: expectedCodes(c.expected),
    }));
  const oddGet = fc.constantFrom(...ODD_QUERIES).map((query) => ({
    method: "GET",
    path: SETS,
    query: `?${query}`,
    body: undefined,
    contentType: "text/plain",
    codes: GET_CODES,
  }));
  // Any method on any path with any body: unknown routes and wrong methods are refused before a handler runs.
  const elsewhere = fc
    .tuple(
      fc.constantFrom(...METHODS),
      fc.oneof(fc.constantFrom(...PATHS), fc.webPath()),
      fc.oneof(fc.constant(undefined), fc.json(), fc.string({ unit: "binary", maxLength: 50 })),
    )
    // Paths opening with "//" have a test of their own below.
    .filter(
      ([method, path]) =>
        !path.startsWith("//") && !ROUTES.some((route) => route.method === method && normalise(path) === route.path),
    )
    .map(([method, path, body]) => ({
      method,
      path,
      query: "",
      body: method === "GET" || method === "HEAD" ? undefined : body,
      contentType: "application/json",
      codes: [],
    }));
  const oversized = fc
    .tuple(fc.constantFrom("PUT", "POST"), fc.integer({ min: 1, max: 512 * 1024 }))
    .map(([method, extra]) => ({
      method,
      path: method === "PUT" ? SETS : IMAGES,
      query: "",
      body: `{"task_id":"fuzz-task","pad":"${"x".repeat(1024 * 1024 + extra)}"}`,
      contentType: "application/json",
      codes: [1014],
    }));
  return fc.oneof(
    { weight: 3, arbitrary: put },
    { weight: 3, arbitrary: post },
    { weight: 3, arbitrary: get },
    { weight: 1, arbitrary: oddGet },
    { weight: 3, arbitrary: elsewhere },
    { weight: 1, arbitrary: oversized },
  );
}

/** The path as the gateway routes it: parsed as a URL, trailing slashes dropped. */
function normalise(path: string): string {
  const pathname = new URL(`http://localhost${path}`).pathname;
  return pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
}

describe("the local gateway, over HTTP with generated bad requests", () => {
  it("500 requests (wrong methods and paths, odd query strings, bad and oversized bodies) get only documented codes, and nothing is written", async () => {
    await fc.assert(
      fc.asyncProperty(httpCase(), async (c) => {
        const response = await fetch(`${api.base}${c.path}${c.query}`, {
          method: c.method,
          headers: { "content-type": c.contentType },
          body: c.body,
        });
        const text = await response.text();
        if (c.method !== "HEAD") expectContract(c.method, `${c.path}${c.query}`, response, text);
        const path = normalise(c.path);
        const onPath = ROUTES.filter((route) => route.path === path);
        const routed = onPath.some((route) => route.method === c.method);
        if (!routed) {
          expect(response.status).toBe(onPath.length > 0 ? 405 : 404);
          if (onPath.length > 0)
            expect(response.headers.get("allow")).toBe(onPath.map((route) => route.method).join(", "));
          if (c.method !== "HEAD") expectSpecReply(response.status, response.headers.get("content-type"), text, [1013]);
          return;
        }
        expectSpecReply(response.status, response.headers.get("content-type"), text, c.codes);
        if (c.method === "PUT") expect(PUT_CODES).toEqual(expect.arrayContaining([...c.codes]));
        if (c.method === "POST") expect(POST_CODES).toEqual(expect.arrayContaining([...c.codes]));
      }),
      { numRuns: 500 },
    );
    expect(await table()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("paths opening with // are unknown routes (404, 1013), not a 500 nor another route", async () => {
    for (const path of ["//", `//host${SETS}`, "//training/tasks/sets"]) {
      const response = await fetch(`${api.base}${path}?task_id=${fixture.task}&set_type_id=0`);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      const text = await response.text();
      expectContract("GET", path, response, text);
      expectSpecReply(response.status, response.headers.get("content-type"), text, [1013]);
    }
  });

  it("query parameters and headers named like Object.prototype members are ordinary names (an unknown parameter is 1023), not a 500", async () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const query = await fetch(`${api.base}${SETS}?task_id=${fixture.task}&set_type_id=0&${name}=1`);
      const text = await query.text();
      // An unknown parameter, refused by its name like any other.
      expect({ name, status: query.status, code: JSON.parse(text).code }).toEqual({ name, status: 400, code: 1023 });
      expectContract("GET", SETS, query, text);
      const header = await fetch(`${api.base}${SETS}?task_id=${fixture.task}&set_type_id=0`, {
        headers: { [name]: "1" },
      });
      expect({ name, status: header.status }).toEqual({ name, status: 200 });
      expectContract("GET", SETS, header, await header.text());
    }
  });

  it("a body nested 100,000 levels deep is refused with 1001 (400), never a 5xx", async () => {
    const deep = `{"task_id":"fuzz-task","training_count":1,"verifying_count":0,"testing_count":0,"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    for (const [method, path] of [
      ["PUT", SETS],
      ["POST", IMAGES],
    ] as const) {
      const response = await fetch(`${api.base}${path}`, { method, body: deep });
      const text = await response.text();
      expectContract(method, path, response, text);
      expectSpecReply(response.status, response.headers.get("content-type"), text, [1001]);
    }
    expect(await table()).toBe(before);
  });
});
