/** DynamoDB actions a function may be granted; a closed list, so `dynamodb:*` cannot slip in. */
export type TableAction =
  | "GetItem"
  | "Query"
  | "PutItem"
  | "UpdateItem"
  | "DeleteItem"
  | "BatchGetItem"
  | "BatchWriteItem";

/**
 * What one function does to the service's table (from lib/store/): actions on the base table, and
 * on its indexes. The stack grants exactly these, and nothing wider.
 */
export interface TableAccess {
  readonly table: readonly TableAction[];
  readonly indexes: readonly TableAction[];
}

/** A split reads the task item and every image (Query), the live snapshot's chunks (BatchGetItem);
 * writes the run item and the chunks; publishes and expires old snapshots (UpdateItem); finds dead
 * runs (Query). It never reads the order index: it plans from strongly consistent Queries of the table. */
const SPLIT_ACCESS: TableAccess = {
  table: ["GetItem", "Query", "BatchGetItem", "PutItem", "BatchWriteItem", "UpdateItem"],
  indexes: [],
};

/** A name in kebab case (SplitTask → split-task): the spelling of a function's file and of its CLI command. */
export const kebabCaseOf = (name: string): string => name.replace(/(?<=[a-z0-9])(?=[A-Z])/g, "-").toLowerCase();

/** A function's handler file, named after it: SplitTask → functions/split-task.ts. */
const entryOf = (name: string): string => `functions/${kebabCaseOf(name)}.ts`;

/** Each function with its `entry`, derived from its name rather than written beside it. */
const withEntries = <const T extends readonly { readonly name: string }[]>(functions: T) =>
  functions.map((fn) => ({ ...fn, entry: entryOf(fn.name) })) as unknown as {
    readonly [K in keyof T]: T[K] & { readonly entry: string };
  };

/**
 * The HTTP API: one function per route, shared by the CDK stack and the local server. Each route
 * says what its function does to the table (`table`), and whether it takes an `Idempotency-Key`
 * (`idempotent`: the stack gives it the idempotency table), and whether it is `open`: served without
 * authorization under every auth setting, and given no table (it must hold no data). A function
 * with `scheduler` writes the tasks' schedules: the stack gives it the scheduler settings
 * (lib/schedule/aws-engine.ts) and leave to create, update and delete the schedules of its group
 * and to pass their role.
 */
export const ROUTES = withEntries([
  {
    method: "PUT",
    path: "/training/tasks/sets",
    name: "SplitTask",
    table: SPLIT_ACCESS,
    idempotent: true,
  },
  {
    method: "GET",
    path: "/training/tasks/sets",
    name: "ListSet",
    // read the task item and the snapshot's chunks, then the page's images from the order index and
    // the tombstones of members it misses (BatchGetItem); the summary reads the tombstones (Query)
    table: { table: ["GetItem", "BatchGetItem", "Query"], indexes: ["Query"] },
    idempotent: false,
  },
  {
    method: "POST",
    path: "/training/tasks/images",
    name: "RegisterImages",
    // look up known images (BatchGetItem) and counting markers left behind (Query), allocate
    // order_ids and update known images (UpdateItem), create new ones with their creation record
    // and counting marker in a transaction (its Put actions), settle the counts in another (its
    // Delete and Update actions), read the count back (GetItem)
    table: { table: ["BatchGetItem", "Query", "UpdateItem", "PutItem", "DeleteItem", "GetItem"], indexes: [] },
    idempotent: true,
  },
  {
    method: "GET",
    path: "/training/tasks/images",
    name: "GetImages",
    // read the image and the task item (GetItem), the live snapshot's chunks and the tombstones of
    // images the index lacks (BatchGetItem), the creation records (Query), the task's images from
    // the order index (Query)
    table: { table: ["GetItem", "BatchGetItem", "Query"], indexes: ["Query"] },
    idempotent: false,
  },
  {
    method: "DELETE",
    path: "/training/tasks/images",
    name: "DeleteImages",
    // read the task item (GetItem) and look the images up (BatchGetItem); mark them deleted with the
    // counts (its Update actions) and write their tombstones (its Put actions) in a transaction
    table: { table: ["GetItem", "BatchGetItem", "UpdateItem", "PutItem"], indexes: [] },
    idempotent: true,
  },
  {
    method: "PUT",
    path: "/training/tasks/schedule",
    name: "SetSchedule",
    // read the schedule item (GetItem), write a new revision (PutItem), mark it active (UpdateItem);
    // creates or updates the task's EventBridge schedule
    table: { table: ["GetItem", "PutItem", "UpdateItem"], indexes: [] },
    idempotent: false,
    scheduler: true,
  },
  {
    method: "GET",
    path: "/training/tasks/schedule",
    name: "GetSchedule",
    // read the schedule item (GetItem) and its newest run records (Query)
    table: { table: ["GetItem", "Query"], indexes: [] },
    idempotent: false,
  },
  {
    method: "DELETE",
    path: "/training/tasks/schedule",
    name: "DeleteSchedule",
    // read the schedule item (GetItem), mark it deleted (UpdateItem); deletes the EventBridge schedule
    table: { table: ["GetItem", "UpdateItem"], indexes: [] },
    idempotent: false,
    scheduler: true,
  },
  {
    method: "GET",
    path: "/openapi.json",
    name: "OpenApiDocument",
    // serves the OpenAPI document, built in code: no table
    table: { table: [], indexes: [] },
    idempotent: false,
    // open under every auth setting, and given no table at all
    open: true,
  },
  {
    method: "GET",
    path: "/docs",
    name: "DocsPage",
    // serves Swagger UI over /openapi.json, and with ?asset= its files, bundled in: no table
    table: { table: [], indexes: [] },
    idempotent: false,
    open: true,
  },
] as const satisfies readonly {
  method: string;
  path: string;
  name: string;
  table: TableAccess;
  idempotent: boolean;
  open?: true;
  scheduler?: true;
}[]);

export type Route = (typeof ROUTES)[number];

/**
 * The routes that read or write the tasks (every route but the open ones, which serve the
 * contract): each has one client method, named by its operationId, and one CLI command, named by
 * its name in kebab case.
 */
export type DataRoute = Exclude<Route, { readonly open: true }>;

export const DATA_ROUTES = ROUTES.filter((route): route is DataRoute => !("open" in route));

/** Functions no route reaches: invoked by a schedule (or by hand). */
export const JOBS = withEntries([
  {
    name: "ResplitTasks",
    description: "A task's scheduled run (EventBridge Scheduler), or a re-split of the tasks an event names",
    // Not behind API Gateway, so not held to its 29 s; Lambda's maximum, for many or big tasks.
    timeoutSeconds: 900,
    // read the schedule item (GetItem), record the run (PutItem, UpdateItem), expire old runs (Query,
    // UpdateItem), then exactly what SplitTask does
    table: SPLIT_ACCESS,
    idempotent: false,
    // a run of an older revision writes the task's schedule again
    scheduler: true,
  },
] as const satisfies readonly {
  name: string;
  description: string;
  timeoutSeconds: number;
  table: TableAccess;
  idempotent: boolean;
  scheduler?: true;
}[]);

export type Job = (typeof JOBS)[number];

/** Every function of the service, by the name that is also its CloudFormation logical id. */
export const FUNCTIONS: readonly (Route | Job)[] = [...ROUTES, ...JOBS];

export type FunctionName = Route["name"] | Job["name"];

/** API functions stop at 29 s, API Gateway's integration timeout: a longer run would answer nobody. */
export const API_TIMEOUT_SECONDS = 29;

export const timeoutSeconds = (fn: Route | Job): number =>
  "timeoutSeconds" in fn ? fn.timeoutSeconds : API_TIMEOUT_SECONDS;

/**
 * What each function does to the table, by function name (from each route's and job's `table`), so
 * a new function does not compile until its access is written down beside it.
 */
export const TABLE_ACCESS: Record<FunctionName, TableAccess> = Object.fromEntries(
  FUNCTIONS.map((fn) => [fn.name, fn.table]),
) as Record<FunctionName, TableAccess>;
