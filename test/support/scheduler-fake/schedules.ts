/** The four calls the engine makes, as the SDK sends them (dist-cjs of @aws-sdk/client-scheduler). */
type Operation = "CreateSchedule" | "UpdateSchedule" | "GetSchedule" | "DeleteSchedule";

const OPERATIONS: Record<string, Operation> = {
  POST: "CreateSchedule",
  PUT: "UpdateSchedule",
  GET: "GetSchedule",
  DELETE: "DeleteSchedule",
};

/** Scheduler's own default group, used when a request names none. */
const DEFAULT_GROUP = "default";

/** One request as the fake received it: `Name` is in the path, `GroupName` in the body or the query. */
export interface RecordedRequest {
  readonly operation: Operation | undefined;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>>;
  /** The schedule's name, from the path `/schedules/{Name}`. */
  readonly name: string;
  /** The body's `GroupName` (Create, Update) or the query's `groupName` (Get, Delete), else "default". */
  readonly groupName: string;
  /** What the fake answered: an HTTP status, or "reset" when it dropped the connection. */
  answer: number | "reset" | undefined;
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly errorType?: string;
}

const failure = (status: number, errorType: string, message: string): Answer => ({
  status,
  errorType,
  body: { Message: message },
});

export const internalError = (): Answer => failure(500, "InternalServerException", "injected internal error");
export const throttled = (): Answer => failure(429, "ThrottlingException", "Rate exceeded");

/** Reads a request's method, path, query and JSON body into what the fake records. */
export function recordOf(method: string, url: string, rawBody: string): RecordedRequest {
  const parsed = new URL(url, "http://fake");
  const query = Object.fromEntries(parsed.searchParams);
  const body = rawBody === "" ? {} : (JSON.parse(rawBody) as Record<string, unknown>);
  const match = /^\/schedules\/([^/]+)$/.exec(parsed.pathname);
  const name = match?.[1] === undefined ? "" : decodeURIComponent(match[1]);
  const groupName = String(body.GroupName ?? query.groupName ?? DEFAULT_GROUP);
  return {
    operation: match ? OPERATIONS[method] : undefined,
    method,
    path: parsed.pathname,
    query,
    body,
    name,
    groupName,
    answer: undefined,
  };
}

const REGION_ACCOUNT = "arn:aws:scheduler:local:000000000000";
const arnOf = (groupName: string, name: string) => `${REGION_ACCOUNT}:schedule/${groupName}/${name}`;

/** Schedules kept in memory by (group, name), each the body it was last created or updated with. */
export class ScheduleTable {
  readonly #schedules = new Map<string, Record<string, unknown>>();

  get(groupName: string, name: string): Record<string, unknown> | undefined {
    return this.#schedules.get(JSON.stringify([groupName, name]));
  }

  set(groupName: string, name: string, body: Record<string, unknown>): void {
    this.#schedules.set(JSON.stringify([groupName, name]), body);
  }

  get size(): number {
    return this.#schedules.size;
  }

  /** Answers one request as Scheduler would, changing the table. */
  answer(request: RecordedRequest): Answer {
    const { operation, groupName, name } = request;
    if (operation === undefined) return failure(404, "UnknownOperationException", `no route ${request.path}`);
    const existing = this.get(groupName, name);
    const absent = () => failure(404, "ResourceNotFoundException", `Schedule ${name} does not exist.`);
    const { ClientToken: _token, ...kept } = request.body;
    switch (operation) {
      case "CreateSchedule":
        if (existing) return failure(409, "ConflictException", `Schedule ${name} already exists.`);
        this.set(groupName, name, kept);
        return { status: 200, body: { ScheduleArn: arnOf(groupName, name) } };
      case "UpdateSchedule":
        if (!existing) return absent();
        this.set(groupName, name, kept);
        return { status: 200, body: { ScheduleArn: arnOf(groupName, name) } };
      case "GetSchedule":
        if (!existing) return absent();
        return { status: 200, body: { ...existing, Arn: arnOf(groupName, name), Name: name, GroupName: groupName } };
      case "DeleteSchedule":
        if (!existing) return absent();
        this.#schedules.delete(JSON.stringify([groupName, name]));
        return { status: 200, body: {} };
    }
  }
}
