import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type Answer, internalError, type RecordedRequest, recordOf, ScheduleTable, throttled } from "./schedules.ts";

/** How an injected failure answers: Scheduler's 500 or 429, or the connection dropped before any answer. */
type Failure = "internal" | "throttle" | "reset";

export interface SchedulerFake {
  /** The endpoint to give `SchedulerClient({ endpoint })`. */
  readonly url: string;
  /** Every request received, in order, failed ones included. */
  readonly requests: RecordedRequest[];
  /** The schedules the fake holds. */
  readonly schedules: ScheduleTable;
  /** Called with each request before it is answered (failures aside): a test's way to change the table meanwhile. */
  beforeAnswer: ((request: RecordedRequest) => void) | undefined;
  /** The next `count` requests fail with `failure`, without touching the table. */
  failNext(count: number, failure?: Failure): void;
  close(): Promise<void>;
}

const FAILURE_ANSWERS: Record<Exclude<Failure, "reset">, () => Answer> = {
  internal: internalError,
  throttle: throttled,
};

function send(response: ServerResponse, answer: Answer): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (answer.errorType) headers["x-amzn-errortype"] = answer.errorType;
  response.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
}

/** Starts a fake of EventBridge Scheduler's REST-JSON API on a free loopback port. */
export async function startSchedulerFake(): Promise<SchedulerFake> {
  const failures: Failure[] = [];
  const sockets = new Set<Socket>();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const parts: Buffer[] = [];
    for await (const part of request as AsyncIterable<Buffer>) parts.push(part);
    const recorded = recordOf(request.method ?? "", request.url ?? "/", Buffer.concat(parts).toString("utf8"));
    fake.requests.push(recorded);
    const failure = failures.shift();
    if (failure === "reset") {
      recorded.answer = "reset";
      request.socket.destroy();
      return;
    }
    fake.beforeAnswer?.(recorded);
    const answer = failure ? FAILURE_ANSWERS[failure]() : fake.schedules.answer(recorded);
    recorded.answer = answer.status;
    send(response, answer);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, { status: 400, errorType: "ValidationException", body: { Message: String(error) } });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const fake: SchedulerFake = {
    url: `http://127.0.0.1:${port}`,
    requests: [],
    schedules: new ScheduleTable(),
    beforeAnswer: undefined,
    failNext(count, failure = "internal") {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return fake;
}
