import type { AddressInfo } from "node:net";
import { readConfig } from "../../lib/config.ts";
import { createStore } from "../../lib/store/index.ts";
import { createGateway, loadHandlers } from "../../scripts/local-gateway.ts";

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** The local gateway on a free port over this worker's table, with the real handlers. */
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
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
  };
  const close = () => new Promise<void>((closed) => server.close(() => closed()));
  return { base, call, close };
}
