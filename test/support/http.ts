import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, inject } from "vitest";
import { readConfig } from "../../lib/config.ts";
import { createStore, type Store } from "../../lib/store/index.ts";
import { createGateway, loadHandlers } from "../../scripts/local-gateway.ts";
import { contract } from "./contract.ts";
import { type FaultProxy, startFaultProxy } from "./fault-proxy/index.ts";

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/**
 * The local gateway on a free port over this worker's table, with the real handlers. `call`
 * fails (throws) on any answer the OpenAPI document does not describe for its operation and status.
 */
export async function startApi() {
  await createStore(readConfig()).ensureTable();
  const server = createGateway(await loadHandlers());
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const reply = {
      status: response.status,
      headers: response.headers,
      body: JSON.parse(text) as Record<string, unknown>,
    };
    // The contract check: every answer a test receives must be one the OpenAPI document describes.
    expectContract(method, path, response, text);
    return reply;
  };
  const close = () => new Promise<void>((closed) => server.close(() => closed()));
  return { base, call, close };
}

/**
 * Throws unless `response` (its body already read as `text`) is an answer the OpenAPI document
 * describes for `method` `path` (a path with its query) and its status. For tests that fetch by hand.
 */
export function expectContract(method: string, path: string, response: Response, text: string): void {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(
      `${method} ${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  const problems = contract.checkReply(method, path, response.status, response.headers.get("content-type"), body);
  if (problems.length > 0) {
    throw new Error(
      `${method} ${path} answered ${response.status} outside the OpenAPI document (lib/contract/openapi.ts):\n  ${problems.join("\n  ")}\nbody: ${text.slice(0, 2000)}`,
    );
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/**
 * For a test file: the real handlers behind the local gateway, their DynamoDB (DYNAMODB_ENDPOINT)
 * behind a fault proxy, and `env` set before they are imported (they read their settings once, as
 * in Lambda); everything restored after. `truth` reaches the same DynamoDB directly.
 */
export function useApiThroughProxy(env: Record<string, string>) {
  let running: { proxy: FaultProxy; api: Awaited<ReturnType<typeof startApi>>; truth: Store } | undefined;
  const saved = Object.fromEntries(["DYNAMODB_ENDPOINT", ...Object.keys(env)].map((name) => [name, process.env[name]]));
  beforeAll(async () => {
    const proxy = await startFaultProxy(inject("dynamoEndpoint"));
    process.env.DYNAMODB_ENDPOINT = proxy.endpoint;
    Object.assign(process.env, env);
    const api = await startApi();
    running = { proxy, api, truth: createStore({ ...readConfig(), endpoint: inject("dynamoEndpoint") }) };
  });
  afterAll(async () => {
    await running?.api.close();
    await running?.proxy.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  return () => {
    if (!running) throw new Error("useApiThroughProxy: the handlers start in beforeAll");
    return running;
  };
}
