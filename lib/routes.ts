/** The HTTP API: one function per route, shared by the CDK stack and the local server. */
export const ROUTES = [
  { method: "PUT", path: "/training/tasks/sets", name: "SplitTask", entry: "functions/split-task.ts" },
  { method: "GET", path: "/training/tasks/sets", name: "ListSet", entry: "functions/list-set.ts" },
  { method: "POST", path: "/training/tasks/images", name: "RegisterImages", entry: "functions/register-images.ts" },
] as const;

export type Route = (typeof ROUTES)[number];
