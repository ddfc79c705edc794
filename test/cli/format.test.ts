import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { formatter, type Row } from "../../cli/format.ts";
import { SET_COLUMNS } from "../../cli/list.ts";

const FORMULAS = ['=HYPERLINK("http://example.com/x","open")', "+1+cmd", "@SUM(1)", "-2+3", "\tTAB", "\rCR", "＝1+2"];

const row = (i: number, text: string): Row => ({
  img_id: `id${i}`,
  img_name: text,
  state: -1,
  order_id: i + 1,
  label: text,
  group: text,
  set_type_id: 0,
});

const csvOf = (rows: Row[], rawCsv?: boolean) => {
  const text = formatter("csv", SET_COLUMNS, { rawCsv });
  return text.head() + text.rows(rows) + text.tail();
};

describe("csv", () => {
  it("escapes a name, label or group a spreadsheet would run as a formula with a leading '", () => {
    // Arrange
    const rows = FORMULAS.map((text, i) => row(i, text));

    // Act
    const records = parse(csvOf(rows), { columns: true }) as Record<string, string>[];

    // Assert
    expect(records).toHaveLength(FORMULAS.length);
    records.forEach((record, i) => {
      for (const column of ["img_name", "label", "group"]) expect(record[column]).toBe(`'${FORMULAS[i]}`);
      // A number is not text: -1 stays -1.
      expect(record.state).toBe("-1");
    });
  });

  it("leaves every other cell as it is, and with rawCsv the formulas too", () => {
    // Arrange
    const plain = ["cat", "a=b", "1+1", "'quoted", " =space first", ""];
    const rows = [...plain, ...FORMULAS].map((text, i) => row(i, text));

    // Act
    const records = parse(csvOf(rows.slice(0, plain.length)), { columns: true }) as Record<string, string>[];
    const raw = parse(csvOf(rows, true), { columns: true }) as Record<string, string>[];

    // Assert
    expect(records.map((record) => record.img_name)).toEqual(plain);
    expect(raw.map((record) => [record.img_name, record.label, record.group])).toEqual(
      [...plain, ...FORMULAS].map((text) => [text, text, text]),
    );
  });

  it("writes a header row, CRLF line ends and an empty cell for null", () => {
    // Act
    const text = csvOf([{ img_id: "1", img_name: "a, b", state: 0, order_id: 1, label: null, group: null }]);

    // Assert
    expect(text).toBe('img_id,img_name,state,order_id,label,group\r\n1,"a, b",0,1,,\r\n');
  });
});

describe("jsonl, json and txt", () => {
  it("write the columns only, each value as it is, never escaped", () => {
    // Arrange
    const rows = [row(0, "=1+2"), row(1, "@SUM(1)")];
    const write = (format: "json" | "jsonl" | "txt") => {
      const text = formatter(format, SET_COLUMNS, {});
      return text.head() + text.rows(rows.slice(0, 1)) + text.rows([]) + text.rows(rows.slice(1)) + text.tail();
    };
    const expected = rows.map(({ set_type_id: _, ...image }) => image);

    // Act
    const jsonl = write("jsonl");
    const json = write("json");
    const txt = write("txt");

    // Assert
    expect(jsonl.endsWith("\n")).toBe(true);
    expect(
      jsonl
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual(expected);
    expect(JSON.parse(json)).toEqual(expected);
    expect(txt).toBe("id0\nid1\n");
  });
});
