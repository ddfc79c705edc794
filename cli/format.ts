import { stringify } from "csv-stringify/sync";

/** What `list` and `images` write: csv, one json array, json lines, or one img_id a line. */
export const LIST_FORMATS = ["csv", "json", "jsonl", "txt"] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

/** A row: an image as the API answered it; only `columns` are written. */
export type Row = { img_id: string } & Record<string, unknown>;

export interface FormatOptions {
  /** Write CSV cells that a spreadsheet would run as a formula as they are (default: escaped). */
  rawCsv?: boolean | undefined;
}

/** One format's text for one file: its head, each batch of rows, its tail. */
export interface Formatter {
  head(): string;
  rows(rows: readonly Row[]): string;
  tail(): string;
}

const pick = (row: Row, columns: readonly string[]) =>
  Object.fromEntries(columns.map((column) => [column, row[column] ?? null]));

export function formatter(format: ListFormat, columns: readonly string[], options: FormatOptions = {}): Formatter {
  let first = true;
  return {
    head: () => (format === "json" ? "[" : format === "csv" ? csvRows([], columns, true, options) : ""),
    rows(rows) {
      if (rows.length === 0) return "";
      if (format === "txt") return rows.map((row) => `${row.img_id}\n`).join("");
      if (format === "csv") return csvRows(rows, columns, false, options);
      if (format === "jsonl") return rows.map((row) => `${JSON.stringify(pick(row, columns))}\n`).join("");
      const text = rows.map((row) => JSON.stringify(pick(row, columns))).join(",\n");
      const prefix = first ? "\n" : ",\n";
      first = false;
      return prefix + text;
    },
    tail: () => (format === "json" ? (first ? "]\n" : "\n]\n") : ""),
  };
}

/**
 * RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled; a
 * null (no label, no group, no set) is an empty cell. Unless `rawCsv`, a text cell starting with
 * =, +, -, @, a tab or a carriage return (or their full-width forms) gets a leading ' so that a
 * spreadsheet shows it instead of running it as a formula (csv-stringify's escape_formulas).
 */
function csvRows(rows: readonly Row[], columns: readonly string[], header: boolean, options: FormatOptions): string {
  return stringify(
    rows.map((row) => columns.map((column) => row[column] ?? "")),
    {
      header,
      columns: [...columns],
      record_delimiter: "\r\n",
      // With a record_delimiter given, csv-stringify would leave a bare \n unquoted.
      quote_record_delimiter: true,
      escape_formulas: !options.rawCsv,
    },
  );
}
