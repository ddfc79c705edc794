import { createReadStream } from "node:fs";
import { mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify/sync";
import { type ImageInfo, type SetName, type TrainingSetsClient, TrainingSetsError } from "../client/index.ts";
import { progress } from "./progress.ts";

export const LIST_FORMATS = ["csv", "json", "txt"] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];
const CSV_COLUMNS = ["img_id", "img_name", "state", "order_id"] as const;
/** How many times a listing starts again after 1015 (the set was re-split under it). */
const RESTARTS = 5;

/** One format's text: a head, each page's images, a tail. */
function formatter(format: ListFormat) {
  let first = true;
  return {
    head: () => (format === "json" ? "[" : format === "csv" ? csvRows([], true) : ""),
    page(images: ImageInfo[]): string {
      if (images.length === 0) return "";
      if (format === "txt") return images.map((image) => `${image.img_id}\n`).join("");
      if (format === "csv") return csvRows(images, false);
      const text = images.map((image) => JSON.stringify(image)).join(",\n");
      const prefix = first ? "\n" : ",\n";
      first = false;
      return prefix + text;
    },
    tail: () => (format === "json" ? (first ? "]\n" : "\n]\n") : ""),
  };
}

/** RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled. */
function csvRows(images: ImageInfo[], header: boolean): string {
  return stringify(
    images.map((image) => CSV_COLUMNS.map((column) => image[column])),
    // quote_record_delimiter: with a record_delimiter given, csv-stringify would leave a bare \n unquoted.
    { header, columns: [...CSV_COLUMNS], record_delimiter: "\r\n", quote_record_delimiter: true },
  );
}

/**
 * Every image of a set into `out` (or stdout), every page following next_cursor. The text goes to
 * a temporary file first — in `out`'s folder, so the final rename is atomic — and reaches `out`
 * (or stdout) only once the whole set is read: a failure leaves no partial file, and a 1015 (the
 * set was re-split under the reader) starts again from the first page with the partial text
 * thrown away.
 */
export async function listToFile(
  api: TrainingSetsClient,
  options: { taskId: string; set: SetName; format: ListFormat; out?: string | undefined; limit?: number | undefined },
): Promise<number> {
  const target = options.out === undefined ? undefined : resolve(options.out);
  const dir = target ? dirname(target) : await mkdtemp(join(tmpdir(), "training-sets-list-"));
  const temp = join(dir, target ? `.${basename(target)}.${process.pid}.tmp` : "list.tmp");
  try {
    let count = 0;
    for (let restart = 0; ; restart++) {
      try {
        count = await writeSet(api, options, temp);
        break;
      } catch (error) {
        if (!(error instanceof TrainingSetsError && error.code === 1015) || restart >= RESTARTS) throw error;
        process.stderr.write(`${options.set}: the task was split again while listing (1015); starting over\n`);
      }
    }
    if (target) await rename(temp, target);
    else await pipeline(createReadStream(temp), process.stdout, { end: false });
    return count;
  } finally {
    await rm(target ? temp : dir, { recursive: true, force: true });
  }
}

async function writeSet(
  api: TrainingSetsClient,
  options: { taskId: string; set: SetName; format: ListFormat; limit?: number | undefined },
  temp: string,
): Promise<number> {
  const total = await setSize(api, options.taskId, options.set);
  const bar = progress(`listing ${options.set}`, total);
  const file = await open(temp, "w");
  try {
    const format = formatter(options.format);
    await file.write(format.head());
    let count = 0;
    // An empty set of a split task answers 1010 (the legacy API's one failure shape): list nothing.
    if (total === 0) {
      await file.write(format.tail());
      return 0;
    }
    const pages = api.listSetPages(options.taskId, options.set, options.limit ? { limit: options.limit } : {});
    for await (const page of pages) {
      await file.write(format.page(page.img_info_list));
      count += page.img_info_list.length;
      bar.update(count);
    }
    await file.write(format.tail());
    return count;
  } finally {
    bar.stop();
    await file.close();
  }
}

/** The set's size at its split (for the progress total); undefined when the summary fails. */
async function setSize(api: TrainingSetsClient, taskId: string, set: SetName): Promise<number | undefined> {
  try {
    return (await api.summary(taskId)).split?.achieved_sizes[set];
  } catch {
    return undefined;
  }
}
