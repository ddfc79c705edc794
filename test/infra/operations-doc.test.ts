import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../lib/routes.ts";
import { dashboardWidgets, type Json, synth } from "./synth.ts";

// docs/operations.md's numbers and tables, against the stack they describe: the alarms, what they
// and the dashboard cost, the functions, and the context options.

const root = new URL("../../", import.meta.url);
const text = readFileSync(new URL("docs/operations.md", root), "utf8");
const cdkJson = JSON.parse(readFileSync(new URL("cdk.json", root), "utf8")) as { context: Record<string, unknown> };
const base = synth();

/** The text of the section under `heading` (any level), up to the next heading of that level or above. */
function section(heading: string): string {
  const start = text.search(new RegExp(`^#+ ${heading}$`, "m"));
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const level = text.slice(start).match(/^#+/)![0].length;
  const rest = text.slice(text.indexOf("\n", start) + 1);
  const end = rest.search(new RegExp(`^#{1,${level}} `, "m"));
  return end === -1 ? rest : rest.slice(0, end);
}

/** The first cell of each row of the first table in `part`, header and rule left out. */
function firstCells(part: string): string[] {
  const table = part.slice(part.search(/^\|/m)).split("\n");
  const end = table.findIndex((line) => !line.startsWith("|"));
  return table.slice(2, end === -1 ? undefined : end).map((line) => line.match(/^\| (.+?) +\|/)?.[1] ?? "");
}

const alarmIds = Object.keys(base.stack.monitoring.alarms);
const alarmMetrics = base.ofType("AWS::CloudWatch::Alarm").reduce((sum, [, alarm]) => {
  const metrics = alarm.Properties!.Metrics as { MetricStat?: Json }[] | undefined;
  return sum + (metrics ? metrics.filter((metric) => metric.MetricStat).length : 1);
}, 0);
const dashboardMetrics = dashboardWidgets(base)
  .flatMap((widget) => widget.properties.metrics ?? [])
  .filter((row) => !(row.length === 1 && typeof row[0] === "object")).length;

describe("docs/operations.md", () => {
  it("has a row in the alarm table for every alarm, per function once with their number", () => {
    const rows = firstCells(section("Alarms, dashboard and logs"));
    const perFunction = (kind: string) => {
      const row = rows.find((cell) => cell.startsWith(`\`<function>${kind}\``));
      expect(row, kind).toBe(`\`<function>${kind}\` (each of ${FUNCTIONS.length})`);
      return FUNCTIONS.map((fn) => `${fn.name}${kind}`);
    };
    const covered = [...perFunction("Errors"), ...perFunction("Throttles")];
    const named = rows.filter((cell) => !cell.startsWith("`<function>")).map((cell) => cell.replaceAll("`", ""));
    expect([...covered, ...named].sort()).toEqual([...alarmIds].sort());
  });

  it("prices the alarms by their number of metrics, and the dashboard within CloudWatch's free 50 metrics", () => {
    const price = (alarmMetrics * 0.1).toFixed(2);
    const row = text.match(
      /^\| (\d+) alarms \(the 3 throttle ones read 2 metrics, the store errors 4\) +\| (.+?) +\|$/m,
    );
    expect(row?.[1]).toBe(String(alarmIds.length));
    expect(row?.[2]).toBe(
      `0.10 USD per alarm metric per month: ${alarmMetrics} × 0.10 = ${price} USD a month per stage`,
    );
    expect(text).toMatch(new RegExp(`\\| the dashboard \\(${dashboardMetrics} metrics\\) +\\|`));
    expect(dashboardMetrics).toBeLessThanOrEqual(50);
  });

  it("counts the functions where it lists them", () => {
    expect(text).toContain(`log groups (${FUNCTIONS.length} functions, API access, API execution; 30 days)`);
    const created = section("Alarms, dashboard and logs").match(/(\d+) functions, Node\.js 24/)?.[1];
    expect(Number(created)).toBe(FUNCTIONS.length);
    for (const fn of FUNCTIONS) expect(section("Alarms, dashboard and logs"), fn.name).toContain(`\`${fn.name}\``);
  });

  it("has a row in the Deploy table for every context option of cdk.json, and no other", () => {
    const options = Object.keys(cdkJson.context).filter((key) => key.startsWith("training-sets:"));
    const rows = firstCells(section("Deploy").slice(section("Deploy").indexOf("| context")));
    expect(rows.map((cell) => cell.replaceAll("`", "")).sort()).toEqual(options.sort());
  });
});
