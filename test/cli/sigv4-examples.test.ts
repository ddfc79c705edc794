import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AwsV4Signer } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * docs/client-and-cli.md's curl and Python examples for callers that are not Node, run as shown
 * against a local server standing in for a stage, which checks each request's SigV4 signature
 * by signing the same request again with the Node client's signer (aws4fetch).
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PAGE = readFileSync(join(ROOT, "docs", "client-and-cli.md"), "utf8");
const CURL = /```sh\n(curl --aws-sigv4[\s\S]*?)```/.exec(PAGE)?.[1];
const PYTHON = /```python\n([\s\S]*?)```/.exec(PAGE)?.[1];
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  AWS_SESSION_TOKEN: "session-token-example",
};
const REGION = "eu-west-1";

const hasCurl = spawnSync("curl", ["--version"]).status === 0;
const hasPython = spawnSync("python3", ["-c", "import botocore, requests"]).status === 0;

interface Received {
  method: string;
  url: string;
  body: string;
  authorization: string;
  expected: string;
}

/** The Authorization header aws4fetch gives the same request, signing the headers the request signed. */
async function signAgain(request: IncomingMessage, body: string): Promise<string> {
  const authorization = String(request.headers.authorization ?? "");
  const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const headers = new Headers();
  for (const name of signed) if (name !== "host") headers.set(name, String(request.headers[name] ?? ""));
  const signer = new AwsV4Signer({
    method: request.method ?? "GET",
    url: `http://${request.headers.host}${request.url}`,
    headers,
    body: body === "" ? undefined : body,
    accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID,
    secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    sessionToken: CREDENTIALS.AWS_SESSION_TOKEN,
    service: "execute-api",
    region: REGION,
    datetime: String(request.headers["x-amz-date"] ?? ""),
    allHeaders: true,
  });
  return (await signer.sign()).headers.get("authorization") ?? "";
}

const received: Received[] = [];
let server: ReturnType<typeof createServer>;
let api: string;
beforeAll(async () => {
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    received.push({
      method: request.method ?? "",
      url: request.url ?? "",
      body,
      authorization: String(request.headers.authorization ?? ""),
      expected: await signAgain(request, body),
    });
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ code: 0, msg: "ok" }));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});
afterAll(() => new Promise((closed) => server.close(closed)));

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, API: api, AWS_REGION: REGION, ...CREDENTIALS } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe("SigV4 from callers that are not Node", () => {
  it("the page shows both examples", () => {
    expect(CURL).toContain('--aws-sigv4 "aws:amz:$AWS_REGION:execute-api"');
    expect(PYTHON).toContain('SigV4Auth(credentials, "execute-api", REGION)');
  });

  it.runIf(hasCurl)("curl signs the PUT as the Node client's signer does", async () => {
    // Act
    const result = await run("bash", ["-c", CURL ?? ""]);

    // Assert
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: '{"code":0,"msg":"ok"}' });
    const request = received.at(-1)!;
    expect(request).toMatchObject({ method: "PUT", url: "/v1/training/tasks/sets" });
    expect(JSON.parse(request.body)).toMatchObject({ task_id: "42", seed: "demo" });
    expect(request.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S*x-amz-security-token/,
    );
    expect(request.authorization).toBe(request.expected);
  });

  it.runIf(hasPython)(
    "Python (botocore and requests) signs the GET with its query as the Node client's signer does",
    async () => {
      // Act
      const result = await run("python3", ["-c", PYTHON ?? ""]);

      // Assert
      expect(result, result.stderr).toMatchObject({ code: 0, stdout: "(200, {'code': 0, 'msg': 'ok'})\n" });
      const request = received.at(-1)!;
      expect(request).toMatchObject({ method: "GET", url: "/v1/training/tasks/sets?task_id=42&set_type_id=1" });
      expect(request.authorization).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
      expect(request.authorization).toBe(request.expected);
    },
  );
});
