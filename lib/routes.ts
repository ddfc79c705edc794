/** The HTTP API: one function per route, shared by the CDK stack and the local server. */
export const ROUTES = [
  { method: "PUT", path: "/training/tasks/sets", name: "SplitTask", entry: "functions/split-task.ts" },
  { method: "GET", path: "/training/tasks/sets", name: "ListSet", entry: "functions/list-set.ts" },
  { method: "POST", path: "/training/tasks/images", name: "RegisterImages", entry: "functions/register-images.ts" },
  { method: "GET", path: "/openapi.json", name: "OpenApiDocument", entry: "functions/openapi.ts" },
] as const;

export type Route = (typeof ROUTES)[number];

/** Functions no route reaches: invoked by a schedule (or by hand). */
export const JOBS = [
  {
    name: "ResplitTasks",
    entry: "functions/resplit-tasks.ts",
    description: "Scheduled re-split of the configured tasks with the counts of their last split",
    // Not behind API Gateway, so not held to its 29 s; Lambda's maximum, for many or big tasks.
    timeoutSeconds: 900,
  },
] as const;

export type Job = (typeof JOBS)[number];

/** Every function of the service, by the name that is also its CloudFormation logical id. */
export const FUNCTIONS: readonly (Route | Job)[] = [...ROUTES, ...JOBS];

export type FunctionName = Route["name"] | Job["name"];

/** API functions stop at 29 s, API Gateway's integration timeout: a longer run would answer nobody. */
export const API_TIMEOUT_SECONDS = 29;

export const timeoutSeconds = (fn: Route | Job): number =>
  "timeoutSeconds" in fn ? fn.timeoutSeconds : API_TIMEOUT_SECONDS;
