import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CapacityModel, type Json } from "../capacity-model/index.ts";
import {
  cancelledFirstAction,
  drop,
  injectedError,
  proxyFailure,
  refusedAfterDeath,
  send,
  throttled,
} from "./answers.ts";
import { type Call, operationName } from "./calls.ts";
import { trackConflicts } from "./conflicts.ts";
import type { Fault } from "./faults.ts";
import { forwardCall, type ProxyState } from "./forward.ts";
import { trackIndexLag } from "./index-lag.ts";
import { type FaultProxy, type FaultProxyOptions, type LoggedCall, markDone } from "./proxy.ts";
import { connectUpstream } from "./upstream.ts";

/** Starts a proxy on a free loopback port in front of `target` (DynamoDB Local's endpoint). */
export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = connectUpstream(target);
  const now = options.now ?? Date.now;
  const capacity = options.capacity === true ? {} : options.capacity || undefined;
  const log: LoggedCall[] = [];
  const perOperation = new Map<string, number>();
  const sockets = new Set<Socket>();
  let seq = 0;

  /** The policy's part: a call is logged, then faulted or handed on to forwardCall. */
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const parts: Buffer[] = [];
    for await (const part of request as AsyncIterable<Buffer>) parts.push(part);
    const raw = Buffer.concat(parts);
    const operation =
      String(request.headers["x-amz-target"] ?? "")
        .split(".")
        .pop() ?? "";
    const input = JSON.parse(raw.toString("utf8") || "{}") as Json;
    const nth = (perOperation.get(operation) ?? 0) + 1;
    perOperation.set(operation, nth);
    const call: Call = { seq: ++seq, operation, nth, input };
    const entry: LoggedCall = {
      seq: call.seq,
      operation,
      input,
      fault: "pass",
      at: Date.now(),
      done: 0,
      status: undefined,
    };
    log.push(entry);
    if (["CreateTable", "DeleteTable", "UpdateTable"].includes(operation))
      upstream.forgetSchema(String(input.TableName));

    if (state.dead && proxy.afterDeath === "refuse") {
      entry.fault = "dead";
      markDone(entry, 400);
      return send(response, 400, refusedAfterDeath);
    }
    let fault: Fault = (state.dead ? undefined : proxy.policy?.(call)) ?? { kind: "pass" };
    entry.fault = fault.kind;
    for (;;) {
      if (fault.kind === "delay") {
        await sleep(fault.ms);
        fault = fault.then ?? { kind: "pass" };
      } else if (fault.kind === "hold") {
        await fault.until.catch(() => undefined);
        fault = fault.then ?? { kind: "pass" };
      } else break;
    }
    if (state.dead) {
      entry.fault = "dead";
      markDone(entry, undefined);
      return drop(request);
    }

    switch (fault.kind) {
      case "throttle":
        markDone(entry, 400);
        return send(response, 400, throttled(fault.error));
      case "error":
        markDone(entry, fault.status);
        return send(response, fault.status, injectedError(fault.type));
      case "cancel":
        markDone(entry, 400);
        return send(response, 400, cancelledFirstAction(input, fault.reason));
      case "drop":
        markDone(entry, undefined);
        return drop(request);
      default:
    }

    const conflict = state.conflicts ? await state.conflicts.check(request, operation, input) : undefined;
    if (conflict?.refusal) {
      entry.fault = "conflict";
      markDone(entry, 400);
      return send(response, 400, conflict.refusal);
    }
    try {
      return await forwardCall(state, request, response, call, raw, entry, fault, conflict);
    } finally {
      conflict?.release();
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, proxyFailure);
      else request.socket.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));

  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    policy: undefined,
    holdTransaction: undefined,
    afterDeath: "drop",
    indexLagMs: 0,
    capacity: capacity ? new CapacityModel({ now, ...capacity }) : undefined,
    log,
    calls: (operation) => perOperation.get(operationName(operation)) ?? 0,
    completed: (operation) => state.completed.get(operationName(operation)) ?? 0,
    get imagesWritten() {
      return state.imagesWritten;
    },
    get conflictsInjected() {
      return state.conflicts?.injected ?? 0;
    },
    kill: () => {
      state.dead = true;
    },
    get dead() {
      return state.dead;
    },
    reset: () => {
      state.dead = false;
      proxy.policy = undefined;
      proxy.holdTransaction = undefined;
      proxy.afterDeath = "drop";
      proxy.indexLagMs = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((closed) => server.close(() => closed()));
      upstream.close();
    },
  };
  const state: ProxyState = {
    proxy,
    upstream,
    model: proxy.capacity,
    conflicts: options.conflicts
      ? trackConflicts(upstream, options.conflicts === true ? {} : options.conflicts)
      : undefined,
    lag: trackIndexLag(),
    now,
    completed: new Map(),
    imagesWritten: 0,
    dead: false,
  };
  return proxy;
}
