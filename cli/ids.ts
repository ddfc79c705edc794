import { readFile } from "node:fs/promises";
import { UsageError } from "./errors.ts";

/** The ids of `--ids a,b,c`: trimmed, empty ones refused, each once. */
export function splitIds(text: string): string[] {
  const ids = text.split(",").map((id) => id.trim());
  if (ids.some((id) => id === "")) throw new UsageError("--ids: expected img_ids separated by commas (e.g. 3,7)");
  return unique("--ids", ids);
}

/**
 * The ids of a text file, one a line, in file order: UTF-8 with or without a BOM, CRLF or LF, each
 * line trimmed, blank lines skipped. An id twice is refused here: the API refuses one twice in a
 * request (1011), and split over two requests the second would only count as already_deleted.
 */
export async function readIdsFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const ids = text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  if (ids.length === 0) throw new UsageError(`${file}: no img_ids`);
  return unique(file, ids);
}

function unique(where: string, ids: string[]): string[] {
  const seen = new Map<string, number>();
  ids.forEach((id, index) => {
    const first = seen.get(id);
    if (first !== undefined)
      throw new UsageError(`${where}: img_id ${id} appears twice (${first + 1} and ${index + 1})`);
    seen.set(id, index);
  });
  return ids;
}
