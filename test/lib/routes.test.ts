import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { program } from "../../cli/program.ts";
import { createClient } from "../../client/index.ts";
import { operationIdOf } from "../../lib/contract/errors.ts";
import { openApiDocument } from "../../lib/contract/openapi.ts";
import { DATA_ROUTES, FUNCTIONS, kebabCaseOf, ROUTES } from "../../lib/routes.ts";
import { PROJECT_ROOT } from "../../scripts/project-root.ts";

// One name per route: its name in lib/routes.ts, derived into its file, its operationId, its client
// method and its CLI command.

/** The commands that call more than one route, each built on routes that have their own command. */
const COMPOSITE_COMMANDS = ["export"];

describe("a route's name", () => {
  it("is spelled in kebab case for files and commands", () => {
    expect(["SplitTask", "ListSet", "OpenApiDocument", "ResplitTasks"].map(kebabCaseOf)).toEqual([
      "split-task",
      "list-set",
      "open-api-document",
      "resplit-tasks",
    ]);
  });

  it("names its function's file, and every file in functions/ is a function's", () => {
    expect(FUNCTIONS.map((fn) => fn.entry)).toEqual(FUNCTIONS.map((fn) => `functions/${kebabCaseOf(fn.name)}.ts`));
    for (const fn of FUNCTIONS) expect(existsSync(join(PROJECT_ROOT, fn.entry)), fn.entry).toBe(true);
    const files = readdirSync(join(PROJECT_ROOT, "functions")).map((file) => `functions/${file}`);
    expect(files.sort()).toEqual(FUNCTIONS.map((fn) => fn.entry).sort());
  });

  it("is its operation's operationId, camel-cased", () => {
    const operations = Object.values(openApiDocument().paths as Record<string, Record<string, { operationId: string }>>)
      .flatMap((byMethod) => Object.values(byMethod))
      .map((operation) => operation.operationId);
    expect(operations.sort()).toEqual(ROUTES.map((route) => operationIdOf(route.name)).sort());
  });
});

describe("every route that reads or writes the tasks", () => {
  const operationIds = DATA_ROUTES.map((route) => operationIdOf(route.name));

  it("is left out only when open (the contract's own routes)", () => {
    expect(ROUTES.filter((route) => !DATA_ROUTES.includes(route as never)).map((route) => route.name)).toEqual([
      "OpenApiDocument",
      "DocsPage",
    ]);
  });

  it("has one client method named by its operationId, and every other method is named after one route", () => {
    const methods = Object.keys(createClient()).filter((key) => key !== "baseUrl");
    expect(methods.filter((method) => operationIds.includes(method)).sort()).toEqual([...operationIds].sort());
    for (const method of methods) {
      const named = operationIds.filter((id) => method.startsWith(id));
      expect(named, `${method} begins with exactly one operationId`).toHaveLength(1);
    }
  });

  it("has exactly one CLI command, its name in kebab case; the rest call several routes", () => {
    const commands = program().commands.map((command) => command.name());
    const routeCommands = DATA_ROUTES.map((route) => kebabCaseOf(route.name));
    expect(commands.filter((command) => routeCommands.includes(command)).sort()).toEqual([...routeCommands].sort());
    expect(commands.filter((command) => !routeCommands.includes(command))).toEqual(COMPOSITE_COMMANDS);
  });
});
