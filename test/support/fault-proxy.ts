import { randomUUID } from "node:crypto";
import { Agent, createServer, request as forward, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { crc32 } from "node:zlib";
import { TABLE, TASK_ITEM_SK } from "../../lib/table.ts";

/**
 * A fault-injecting loopback proxy in front of DynamoDB Local, speaking the DynamoDB JSON wire
 * protocol. It sits on the network path rather than in the SDK, so the SDK's own retry loop,
 * error classification and connection handling all run exactly as they would against AWS, and it
 * serves the store in a test and the Lambda handlers alike (they only know DYNAMODB_ENDPOINT).
 * Every call it lets through is answered by the real DynamoDB Local; nothing is mocked.
 */

/** DynamoDB wire JSON, read loosely: the proxy only looks at a few well-known fields. */
type Json = Record<string, any>;

/** One call as the proxy sees it. */
export interface Call {
  /** 1-based position among all calls through this proxy. */
  seq: number;
  /** The DynamoDB operation, from the X-Amz-Target header (e.g. "BatchWriteItem"). */
  operation: string;
  /** 1-based position among calls of the same operation. */
  nth: number;
  /** The request as sent (DynamoDB JSON). */
  input: Json;
}

export type ThrottleError = "ProvisionedThroughputExceededException" | "ThrottlingException";

/** What the proxy does with one call. */
export type Fault =
  /** Forward it untouched. */
  | { kind: "pass" }
  /** Answer DynamoDB's throttling error (HTTP 400) without forwarding. */
  | { kind: "throttle"; error?: ThrottleError }
  /** Answer any DynamoDB error without forwarding, e.g. 500 InternalServerError. */
  | { kind: "error"; status: number; type: string }
  /**
   * TransactWriteItems: answer TransactionCanceledException without forwarding, the first action
   * cancelled for `reason` (DynamoDB Local never reports a TransactionConflict by itself).
   */
  | { kind: "cancel"; reason: "TransactionConflict" | "ThrottlingError" | "ConditionalCheckFailed" }
  /** BatchWriteItem / BatchGetItem: forward only the first `keep` requests and report the rest unprocessed. */
  | { kind: "unprocessed"; keep: number }
  /** Close the connection before forwarding: nothing reached DynamoDB. */
  | { kind: "drop" }
  /** Forward, then close the connection instead of answering: DynamoDB did the work, the caller never hears. */
  | { kind: "dropAnswer"; thenDie?: boolean }
  /** Wait, then apply `then` (default pass). */
  | { kind: "delay"; ms: number; then?: Fault }
  /** Hold the call until `until` settles (a paused process, a stalled request), then apply `then`. */
  | { kind: "hold"; until: Promise<unknown>; then?: Fault };

export type Policy = (call: Call) => Fault | undefined;

/** One finished call, for assertions on what happened in which order. */
export interface LoggedCall {
  seq: number;
  operation: string;
  input: Json;
  fault: Fault["kind"] | "dead";
  /** Time the call arrived and the time it was answered (or dropped). */
  at: number;
  done: number;
  /** HTTP status DynamoDB (or the proxy) answered; undefined when the connection was dropped. */
  status: number | undefined;
}

const THROTTLE_TYPES: Record<ThrottleError, string> = {
  ProvisionedThroughputExceededException: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
  ThrottlingException: "com.amazon.coral.availability#ThrottlingException",
};

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"]);

/** True for the operations that change the table. */
export const isWrite = (operation: string) => WRITES.has(operation);

/**
 * The images (by img_id) a call writes, the task item left out: the rows of a BatchWriteItem or
 * TransactWriteItems, or the key of a PutItem / UpdateItem / DeleteItem. Lets a test speak of
 * "image writes" however the store groups them.
 */
export function imageWrites(call: Pick<Call, "operation" | "input">): { table: string; imgIds: string[] } {
  const { operation, input } = call;
  const id = (item: Json | undefined) => item?.[TABLE.sortKey]?.S as string | undefined;
  let table = String(input.TableName ?? "");
  let ids: (string | undefined)[] = [];
  if (operation === "BatchWriteItem") {
    const [name, requests] = Object.entries((input.RequestItems ?? {}) as Record<string, Json[]>)[0] ?? ["", []];
    table = name;
    ids = requests.map((r) => id(r.PutRequest?.Item ?? r.DeleteRequest?.Key));
  } else if (operation === "TransactWriteItems") {
    const actions = ((input.TransactItems ?? []) as Json[])
      .map((item) => item.Put ?? item.Update ?? item.Delete)
      .filter(Boolean) as Json[];
    table = String(actions[0]?.TableName ?? "");
    ids = actions.map((action) => id(action.Item ?? action.Key));
  } else if (operation === "PutItem") {
    ids = [id(input.Item)];
  } else if (operation === "UpdateItem" || operation === "DeleteItem") {
    ids = [id(input.Key)];
  }
  return { table, imgIds: ids.filter((imgId): imgId is string => imgId !== undefined && imgId !== TASK_ITEM_SK) };
}

/** True for the split's flip: the task-item update that sets the live slot. */
export const isFlip = (call: Pick<Call, "operation" | "input">) =>
  call.operation === "UpdateItem" && /\bSET live_slot\b/.test(String(call.input.UpdateExpression ?? ""));

/** A promise with its resolver, for holding calls until a test says so. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A small seeded PRNG (mulberry32), so a run's fault pattern can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface FaultProxy {
  /** Where to point a DynamoDB client (or DYNAMODB_ENDPOINT). */
  endpoint: string;
  /** Decides each call's fate; undefined (or returning undefined) lets everything through. */
  policy: Policy | undefined;
  /**
   * Simulated index lag (0 = DynamoDB Local's instant indexes): an index entry that a write through
   * this proxy creates or moves (a slot attribute set to a new value) shows up in that index's
   * queries only this many ms after the write was answered; entries the write left alone stay
   * visible. Set it before the writes it should affect.
   */
  indexLagMs: number;
  /** Every call so far, in arrival order. */
  readonly log: LoggedCall[];
  /** How many calls of `operation` DynamoDB answered with 2xx. */
  completed(operation: string): number;
  /** How many image rows were written by calls DynamoDB answered with 2xx (see imageWrites). */
  readonly imagesWritten: number;
  /** The process behind this proxy died: from now on every call is dropped, and so is every answer still in flight. */
  kill(): void;
  readonly dead: boolean;
  /** A new process on the same path: alive again, no policy, no index lag (the log and counters are kept). */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of `target` (DynamoDB Local's endpoint). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const log: LoggedCall[] = [];
  const perOperation = new Map<string, number>();
  const completed = new Map<string, number>();
  /** When an index entry (item key, index attribute, value) was created through the proxy, for the index lag. */
  const enteredAt = new Map<string, number>();
  const indexAttributes = Object.values(TABLE.slotIndexes).map((index) => index.partitionKey as string);
  const sockets = new Set<Socket>();
  let seq = 0;
  let dead = false;
  let imagesWritten = 0;

  const itemKey = (item: Json) => `${item[TABLE.partitionKey]?.S ?? ""}\u0000${item[TABLE.sortKey]?.S ?? ""}`;

  const send = (response: ServerResponse, status: number, body: Json) => {
    const text = Buffer.from(JSON.stringify(body));
    response.writeHead(status, {
      "content-type": "application/x-amz-json-1.0",
      "content-length": text.length,
      "x-amzn-requestid": randomUUID(),
      // The SDK may verify this checksum: always send the one of the body actually sent.
      "x-amz-crc32": String(crc32(text)),
    });
    response.end(text);
  };

  const drop = (request: IncomingMessage) => request.socket.destroy();

  /** Sends the request on to DynamoDB Local and returns its answer. */
  const upstreamCall = (request: IncomingMessage, body: Buffer, operation?: string) =>
    new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
      const headers = { ...request.headers, host: upstream.host, "content-length": String(body.length) };
      // DynamoDB Local does not check signatures, so the proxy may reshape a request or make its own.
      if (operation) Object.assign(headers, { "x-amz-target": `DynamoDB_20120810.${operation}` });
      const outgoing = forward(
        { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers, agent },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (part: Buffer) => parts.push(part));
          answer.on("end", () =>
            resolve({ status: answer.statusCode ?? 500, headers: answer.headers, body: Buffer.concat(parts) }),
          );
          answer.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  /** The slot attributes of some image rows as DynamoDB holds them now (read straight from it). */
  const slotValues = async (request: IncomingMessage, table: string, imgIds: string[], taskId: string) => {
    const values = new Map<string, Json>();
    for (let start = 0; start < imgIds.length; start += 100) {
      const keys = imgIds
        .slice(start, start + 100)
        .map((imgId) => ({ [TABLE.partitionKey]: { S: taskId }, [TABLE.sortKey]: { S: imgId } }));
      const read = { RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } };
      const answer = await upstreamCall(request, Buffer.from(JSON.stringify(read)), "BatchGetItem");
      for (const item of (JSON.parse(answer.body.toString("utf8")) as Json).Responses?.[table] ?? [])
        values.set(itemKey(item), item);
    }
    return values;
  };

  /** The index entries a write created or moved: slot attributes whose value it changed. */
  const changedEntries = (before: Map<string, Json>, after: Map<string, Json>): string[] => {
    const entries: string[] = [];
    for (const [key, item] of after) {
      for (const attribute of indexAttributes) {
        const value = item[attribute]?.S;
        if (value !== undefined && before.get(key)?.[attribute]?.S !== value)
          entries.push(`${key}\u0000${attribute}\u0000${value}`);
      }
    }
    return entries;
  };

  /** The task a write's image rows belong to. */
  const taskOf = (operation: string, input: Json): string | undefined => {
    if (operation === "BatchWriteItem") {
      const first = (Object.values((input.RequestItems ?? {}) as Record<string, Json[]>)[0] ?? [])[0];
      return (first?.PutRequest?.Item ?? first?.DeleteRequest?.Key)?.[TABLE.partitionKey]?.S;
    }
    if (operation === "TransactWriteItems") {
      const first = ((input.TransactItems ?? []) as Json[])
        .map((item) => item.Put ?? item.Update ?? item.Delete)
        .find(Boolean) as Json | undefined;
      return (first?.Item ?? first?.Key)?.[TABLE.partitionKey]?.S;
    }
    return (input.Item ?? input.Key)?.[TABLE.partitionKey]?.S;
  };

  /** Rewrites an index query so its answer names each item's index attribute (to hide the lagging entries). */
  const lagQuery = (input: Json, attribute: string): Json => {
    const { Select: _count, ProjectionExpression: projection, ...rest } = input;
    if (input.Select !== "COUNT" && projection === undefined) return input;
    return {
      ...rest,
      ProjectionExpression: `${projection ? `${projection}, ` : ""}#lag_pk, #lag_sk, #lag_ix`,
      ExpressionAttributeNames: {
        ...(rest.ExpressionAttributeNames ?? {}),
        "#lag_pk": TABLE.partitionKey,
        "#lag_sk": TABLE.sortKey,
        "#lag_ix": attribute,
      },
    };
  };

  const lagAnswer = (input: Json, attribute: string, output: Json, now: number): Json => {
    const visible = ((output.Items ?? []) as Json[]).filter((item) => {
      const at = enteredAt.get(`${itemKey(item)}\u0000${attribute}\u0000${item[attribute]?.S}`);
      return at === undefined || now - at >= proxy.indexLagMs;
    });
    const { Items: _items, ...rest } = output;
    return input.Select === "COUNT"
      ? { ...rest, Count: visible.length }
      : { ...rest, Items: visible, Count: visible.length };
  };

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
    const finish = (status: number | undefined) => {
      entry.done = Date.now();
      entry.status = status;
    };

    let fault: Fault = (dead ? undefined : proxy.policy?.(call)) ?? { kind: "pass" };
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
    if (dead) {
      entry.fault = "dead";
      finish(undefined);
      return drop(request);
    }

    switch (fault.kind) {
      case "throttle": {
        const error = fault.error ?? "ProvisionedThroughputExceededException";
        finish(400);
        return send(response, 400, {
          __type: THROTTLE_TYPES[error],
          message: "Rate of requests exceeds the allowed throughput.",
        });
      }
      case "error":
        finish(fault.status);
        return send(response, fault.status, {
          __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`,
          message: "injected",
        });
      case "cancel": {
        const actions = ((input.TransactItems ?? []) as Json[]).length;
        const reasons = Array.from({ length: Math.max(1, actions) }, (_, i) =>
          i === 0 ? { Code: fault.reason, Message: "injected" } : { Code: "None" },
        );
        finish(400);
        return send(response, 400, {
          __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
          Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`,
          CancellationReasons: reasons,
        });
      }
      case "drop":
        finish(undefined);
        return drop(request);
      default:
    }

    // Forwarded from here on, possibly reshaped.
    let body: Json = input;
    let unprocessed: Json | undefined;
    if (fault.kind === "unprocessed" && operation === "BatchWriteItem") {
      const [kept, rest] = splitRequests(input.RequestItems as Record<string, Json[]>, fault.keep, (r) => r);
      unprocessed = { UnprocessedItems: rest };
      body = { ...input, RequestItems: kept };
    } else if (fault.kind === "unprocessed" && operation === "BatchGetItem") {
      const tables = input.RequestItems as Record<string, Json>;
      const keys = Object.fromEntries(Object.entries(tables).map(([table, spec]) => [table, spec.Keys as Json[]]));
      const [kept, rest] = splitRequests(keys, fault.keep, (k) => k);
      const wrap = (part: Record<string, Json[]>) =>
        Object.fromEntries(Object.entries(part).map(([table, list]) => [table, { ...tables[table], Keys: list }]));
      unprocessed = { UnprocessedKeys: wrap(rest) };
      body = { ...input, RequestItems: wrap(kept) };
    }
    const lagAttribute = Object.values(TABLE.slotIndexes).find(
      (index) => index.indexName === input.IndexName,
    )?.partitionKey;
    const lagging = proxy.indexLagMs > 0 && operation === "Query" && lagAttribute !== undefined;
    if (lagging) body = lagQuery(input, lagAttribute);
    const written = imageWrites({ operation, input: body });
    const lagTask = proxy.indexLagMs > 0 && written.imgIds.length > 0 ? taskOf(operation, body) : undefined;
    const before = lagTask ? await slotValues(request, written.table, written.imgIds, lagTask) : undefined;

    let output: Json | undefined;
    let status = 200;
    let answer: Awaited<ReturnType<typeof upstreamCall>> | undefined;
    const nothingLeft = body.RequestItems !== undefined && Object.keys(body.RequestItems as Json).length === 0;
    if (nothingLeft) {
      output = operation === "BatchGetItem" ? { Responses: {} } : {};
    } else {
      answer = await upstreamCall(request, body === input ? raw : Buffer.from(JSON.stringify(body)));
      status = answer.status;
    }
    const now = Date.now();
    if (status < 300) {
      completed.set(operation, (completed.get(operation) ?? 0) + 1);
      imagesWritten += written.imgIds.length;
      if (before && lagTask) {
        const after = await slotValues(request, written.table, written.imgIds, lagTask);
        for (const entry of changedEntries(before, after)) enteredAt.set(entry, now);
      }
    }
    if (dead || fault.kind === "dropAnswer") {
      if (fault.kind === "dropAnswer" && fault.thenDie) dead = true;
      entry.fault = dead && fault.kind !== "dropAnswer" ? "dead" : fault.kind;
      finish(undefined);
      return drop(request);
    }
    if (answer && !unprocessed && !lagging) {
      finish(answer.status);
      response.writeHead(answer.status, answer.headers);
      return response.end(answer.body);
    }
    output ??= JSON.parse(answer?.body.toString("utf8") || "{}") as Json;
    if (status < 300 && unprocessed) output = mergeUnprocessed(output, unprocessed);
    if (status < 300 && lagging) output = lagAnswer(input, lagAttribute, output, now);
    finish(status);
    return send(response, status, output);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent)
        send(response, 500, { __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: "proxy" });
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
    indexLagMs: 0,
    log,
    completed: (operation) => completed.get(operation) ?? 0,
    get imagesWritten() {
      return imagesWritten;
    },
    kill: () => {
      dead = true;
    },
    get dead() {
      return dead;
    },
    reset: () => {
      dead = false;
      proxy.policy = undefined;
      proxy.indexLagMs = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((closed) => server.close(() => closed()));
      agent.destroy();
    },
  };
  return proxy;
}

/** Splits per-table request lists into the first `keep` requests overall and the rest. */
function splitRequests<T>(
  tables: Record<string, T[]>,
  keep: number,
  copy: (item: T) => T,
): [Record<string, T[]>, Record<string, T[]>] {
  const kept: Record<string, T[]> = {};
  const rest: Record<string, T[]> = {};
  let left = keep;
  for (const [table, list] of Object.entries(tables)) {
    for (const item of list) {
      const into = left > 0 ? kept : rest;
      if (left > 0) left--;
      (into[table] ??= []).push(copy(item));
    }
  }
  return [kept, rest];
}

function mergeUnprocessed(output: Json, unprocessed: Json): Json {
  const merged = { ...output };
  for (const field of ["UnprocessedItems", "UnprocessedKeys"]) {
    const extra = unprocessed[field] as Record<string, any> | undefined;
    if (!extra || Object.keys(extra).length === 0) continue;
    const existing = { ...((output[field] as Record<string, any>) ?? {}) };
    for (const [table, value] of Object.entries(extra)) {
      if (field === "UnprocessedItems") existing[table] = [...(existing[table] ?? []), ...value];
      else existing[table] = { ...value, Keys: [...(existing[table]?.Keys ?? []), ...value.Keys] };
    }
    merged[field] = existing;
  }
  return merged;
}
