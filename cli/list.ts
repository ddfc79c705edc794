import { createReadStream } from "node:fs";
import { mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify/sync";
import { type SetName, type TrainingSetsClient, TrainingSetsError } from "../client/index.ts";
import { progress } from "./progress.ts";

export const LIST_FORMATS = ["csv", "json", "txt"] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];
/** The columns of `list` (a set's images). */
const SET_COLUMNS = ["img_id", "img_name", "state", "order_id"] as const;
/** The columns of `images` (the task's images, each with its set in the live split). */
export const IMAGE_COLUMNS = ["img_id", "img_name", "state", "order_id", "label", "group", "set_type_id"] as const;
/** How many times a listing starts again after 1015 (the split was made again under it). */
const RESTARTS = 5;

type Row = { img_id: string } & Record<string, unknown>;

/** One format's text: a head, each page's images, a tail. */
function formatter(format: ListFormat, columns: readonly string[]) {
  let first = true;
  return {
    head: () => (format === "json" ? "[" : format === "csv" ? csvRows([], columns, true) : ""),
    page(images: Row[]): string {
      if (images.length === 0) return "";
      if (format === "txt") return images.map((image) => `${image.img_id}\n`).join("");
      if (format === "csv") return csvRows(images, columns, false);
      const text = images.map((image) => JSON.stringify(image)).join(",\n");
      const prefix = first ? "\n" : ",\n";
      first = false;
      return prefix + text;
    },
    tail: () => (format === "json" ? (first ? "]\n" : "\n]\n") : ""),
  };
}

/**
 * RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled; a
 * null (no label, no group, no set) is an empty cell.
 */
function csvRows(images: Row[], columns: readonly string[], header: boolean): string {
  return stringify(
    images.map((image) => columns.map((column) => image[column] ?? "")),
    // quote_record_delimiter: with a record_delimiter given, csv-stringify would leave a bare \n unquoted.
    { header, columns: [...columns], record_delimiter: "\r\n", quote_record_delimiter: true },
  );
}

/** What a listing reads: its pages (from the first each time it is called), its size for progress, its columns. */
interface Listing {
  /** For progress and messages, e.g. "training" or "images". */
  label: string;
  columns: readonly string[];
  /** How many images to expect (the progress total); undefined when unknown. */
  size: () => Promise<number | undefined>;
  /** Every page from the first; none when there is nothing to list. */
  pages: () => AsyncIterable<{ img_info_list: Row[] }>;
}

/**
 * Every image of a listing into `out` (or stdout), every page following next_cursor. The text goes
 * to a temporary file first — in `out`'s folder, so the final rename is atomic — and reaches `out`
 * (or stdout) only once the whole listing is read: a failure leaves no partial file, and a 1015
 * (the split was made again under the reader) starts again from the first page with the partial
 * text thrown away.
 */
async function listingToFile(
  listing: Listing,
  options: { format: ListFormat; out?: string | undefined },
): Promise<number> {
  const target = options.out === undefined ? undefined : resolve(options.out);
  const dir = target ? dirname(target) : await mkdtemp(join(tmpdir(), "training-sets-list-"));
  const temp = join(dir, target ? `.${basename(target)}.${process.pid}.tmp` : "list.tmp");
  try {
    let count = 0;
    for (let restart = 0; ; restart++) {
      try {
        count = await writeListing(listing, options.format, temp);
        break;
      } catch (error) {
        if (!(error instanceof TrainingSetsError && error.code === 1015) || restart >= RESTARTS) throw error;
        process.stderr.write(`${listing.label}: the task was split again while listing (1015); starting over\n`);
      }
    }
    if (target) await rename(temp, target);
    else await pipeline(createReadStream(temp), process.stdout, { end: false });
    return count;
  } finally {
    await rm(target ? temp : dir, { recursive: true, force: true });
  }
}

async function writeListing(listing: Listing, format: ListFormat, temp: string): Promise<number> {
  const total = await listing.size();
  const bar = progress(`listing ${listing.label}`, total);
  const file = await open(temp, "w");
  try {
    const text = formatter(format, listing.columns);
    await file.write(text.head());
    let count = 0;
    if (total !== 0) {
      for await (const page of listing.pages()) {
        await file.write(text.page(page.img_info_list));
        count += page.img_info_list.length;
        bar.update(count);
      }
    }
    await file.write(text.tail());
    return count;
  } finally {
    bar.stop();
    await file.close();
  }
}

/** Every image of a set (csv columns SET_COLUMNS); see listingToFile. */
export function listToFile(
  api: TrainingSetsClient,
  options: { taskId: string; set: SetName; format: ListFormat; out?: string | undefined; limit?: number | undefined },
): Promise<number> {
  const paging = options.limit ? { limit: options.limit } : {};
  return listingToFile(
    {
      label: options.set,
      columns: SET_COLUMNS,
      // An empty set of a split task answers 1010 (the legacy API's one failure shape): its size
      // from the summary is 0, and then nothing is read.
      size: async () => {
        try {
          return (await api.summary(options.taskId)).split?.achieved_sizes[options.set];
        } catch {
          return undefined;
        }
      },
      pages: () => api.listSetPages(options.taskId, options.set, paging),
    },
    options,
  );
}

/** Every image of the task, deleted ones left out (csv columns IMAGE_COLUMNS); see listingToFile. */
export function imagesToFile(
  api: TrainingSetsClient,
  options: { taskId: string; format: ListFormat; out?: string | undefined; limit?: number | undefined },
): Promise<number> {
  const paging = options.limit ? { limit: options.limit } : {};
  return listingToFile(
    {
      label: "images",
      columns: IMAGE_COLUMNS,
      // The summary's image_count is only for progress: a task without images is the API's 1003.
      size: async () => {
        try {
          return (await api.summary(options.taskId)).image_count || undefined;
        } catch {
          return undefined;
        }
      },
      pages: () => api.imagesPages(options.taskId, paging),
    },
    options,
  );
}
