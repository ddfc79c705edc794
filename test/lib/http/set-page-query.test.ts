import { describe, expect, it } from "vitest";
import { encodeCursor } from "../../../lib/http/cursor.ts";
import { parseSetPageQuery } from "../../../lib/http/queries.ts";
import type { SetCursor } from "../../../lib/model.ts";
import { expectRefused, TASK } from "./refusals.ts";

describe("parseSetPageQuery", () => {
  const cursorFor = (over: Partial<SetCursor> = {}): SetCursor => ({
    taskId: TASK,
    setType: 1,
    version: 3,
    token: "9f8e7d6c5b4a",
    n: 20_000,
    size: 10_000,
    position: 5000,
    after: 7042,
    ...over,
  });
  const query = { task_id: TASK, set_type_id: "1" };

  it("defaults limit to 5000 and cursor to none", () => {
    expect(parseSetPageQuery(query)).toEqual({ taskId: TASK, setType: 1, limit: 5000, cursor: undefined });
  });

  it.each([
    ["the legacy API's quoted task_id", '"2018070477207204860"', "2018070477207204860"],
    ["a bare task_id", "2018070477207204860", "2018070477207204860"],
    ["a task_id of letters", '"abc_-"', "abc_-"],
  ])("accepts %s", (_name, taskId, expected) => {
    expect(parseSetPageQuery({ ...query, task_id: taskId }).taskId).toBe(expected);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["an empty quoted string", '""'],
    ["doubly quoted (only one pair is stripped)", '""123""'],
    ["opened but not closed", '"123'],
    ["closed but not opened", '123"'],
    ["single-quoted", "'123'"],
    ["a lone quote", '"'],
    ["65 characters", "x".repeat(65)],
    ["malformed", "12 3"],
  ])("refuses a task_id that is %s with 1002", (_name, taskId) => {
    expectRefused(() => parseSetPageQuery({ ...query, task_id: taskId }), 1002);
  });

  it.each([null, undefined, {}])("refuses a query of %j with 1002", (q) => {
    expectRefused(() => parseSetPageQuery(q), 1002);
  });

  it.each([
    ["0", 0],
    ["1", 1],
    ["2", 2],
    ['"2"', 2],
  ] as const)("accepts set_type_id %s", (value, expected) => {
    expect(parseSetPageQuery({ ...query, set_type_id: value }).setType).toBe(expected);
  });

  it.each([undefined, "", "3", "-1", "01", " 1", "1 ", "1.0", "a", '"3"', '""'])(
    "refuses set_type_id %j with 1004",
    (value) => {
      expectRefused(() => parseSetPageQuery({ ...query, set_type_id: value }), 1004);
    },
  );

  it.each([
    ["1", 1],
    ["10000", 10000],
    ["0010", 10],
  ])("accepts limit %s", (value, expected) => {
    expect(parseSetPageQuery({ ...query, limit: value }).limit).toBe(expected);
  });

  it.each(["0", "10001", "abc", "", "-1", "1.5", " 5", "5 ", "1e3", '"5"', "99999999999999999999"])(
    "refuses limit %j with 1012",
    (value) => {
      expectRefused(() => parseSetPageQuery({ ...query, limit: value }), 1012);
    },
  );

  it("returns the decoded cursor of this task and set", () => {
    const cursor = cursorFor();
    expect(parseSetPageQuery({ ...query, cursor: encodeCursor(cursor) }).cursor).toEqual(cursor);
  });

  it("accepts a cursor together with a quoted task_id", () => {
    const q = { task_id: `"${TASK}"`, set_type_id: '"1"', cursor: encodeCursor(cursorFor()) };
    expect(parseSetPageQuery(q).cursor).toEqual(cursorFor());
  });

  const forged = (fields: unknown) => Buffer.from(JSON.stringify(fields)).toString("base64url");
  it.each([
    ["empty", ""],
    ["not base64url", "abc+/="],
    ["random base64url", "abcdef"],
    ["truncated", encodeCursor(cursorFor()).slice(0, -6)],
    ["forged with a bad version", forged([TASK, 1, 0, "ab12", 20000, 10000, 5000, 42])],
    ["forged with a bad token", forged([TASK, 1, 3, "not-hex", 20000, 10000, 5000, 42])],
    ["forged with a bad position", forged([TASK, 1, 3, "ab12", 20000, 10000, 0, 42])],
    ["forged past the set's end", forged([TASK, 1, 3, "ab12", 20000, 10000, 10000, 42])],
    ["forged past the snapshot's end", forged([TASK, 1, 3, "ab12", 20000, 10000, 5000, 20000])],
    ["forged as an object", forged({ taskId: TASK })],
    ["of another task", encodeCursor(cursorFor({ taskId: "2018062212345678912" }))],
    ["of another set", encodeCursor(cursorFor({ setType: 2 }))],
    ["too long", "A".repeat(513)],
  ])("refuses a cursor that is %s with 1012", (_name, cursor) => {
    expectRefused(() => parseSetPageQuery({ ...query, cursor }), 1012);
  });

  it.each([
    ["task_id before set_type_id", { task_id: '"', set_type_id: "9", limit: "0" }, 1002],
    ["set_type_id before limit", { task_id: TASK, set_type_id: "9", limit: "0" }, 1004],
    ["set_type_id before cursor", { task_id: TASK, set_type_id: "9", cursor: "bad" }, 1004],
  ] as const)("reports the first failing rule: %s", (_name, q, code) => {
    expectRefused(() => parseSetPageQuery(q), code);
  });

  it("ignores unknown parameters", () => {
    expect(parseSetPageQuery({ ...query, foo: "bar" }).setType).toBe(1);
  });

  it("does not read inherited or __proto__ parameters", () => {
    expectRefused(() => parseSetPageQuery(Object.create(query) as Record<string, string>), 1002);
    expectRefused(() => parseSetPageQuery(JSON.parse(`{"__proto__": ${JSON.stringify(query)}}`)), 1002);
  });
});
