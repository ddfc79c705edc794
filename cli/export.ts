import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type Image,
  type ImagePage,
  SET_TYPE_IDS,
  type SetName,
  type SplitRecord,
  type TrainingSetsClient,
  TrainingSetsError,
} from "../client/index.ts";
import { CommandError } from "./errors.ts";
import { type FormatOptions, type Formatter, formatter } from "./format.ts";
import { pagingOf, SET_COLUMNS } from "./list.ts";
import { type Output, openOutput } from "./output.ts";
import { progress } from "./progress.ts";

/** The formats a training job's loaders read: CSV, JSON Lines, or one img_id a line. */
export const EXPORT_FORMATS = ["csv", "jsonl", "txt"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const MANIFEST_FILE = "manifest.json";
const SETS = ["training", "verifying", "testing"] as const satisfies readonly SetName[];
/** How many times the first page is read again when a split was published while it was read. */
const FIRST_PAGE_TRIES = 5;

export interface ExportOptions extends FormatOptions {
  taskId: string;
  format: ExportFormat;
  /** The folder the files go to (made when missing). */
  out: string;
  limit?: number | undefined;
  /** The command line, as the manifest records it. */
  command: string;
}

/** What manifest.json holds: which split the files are, and what they hold. */
export interface Manifest {
  task_id: string;
  split: Pick<
    SplitRecord,
    "version" | "seed" | "algorithm" | "split_at" | "mode" | "options" | "requested_sizes" | "achieved_sizes"
  >;
  format: ExportFormat;
  csv_formulas?: "escaped" | "raw";
  sets: Record<SetName, { file: string; count: number }>;
  /** Images of the task in no set of this split (registered since, or left out by it). */
  unassigned_count: number;
  exported_at: string;
  url: string;
  command: string;
}

interface SetFile {
  set: SetName;
  file: string;
  output: Output;
  text: Formatter;
  count: number;
}

/**
 * The three sets of the task's live split into `out` — training, verifying and testing, one file
 * each — and a manifest naming the split. One walk of the task's image listing: its cursor keeps
 * every page on the split its first page read, and the summaries read just before and after that
 * first page name the split (a split published between them means the first page is read again).
 * A 1015 (that split is no longer retained) fails the export. The files reach `out` only once
 * every page is read, the manifest last; a failure leaves none of them.
 */
export async function exportSets(api: TrainingSetsClient, options: ExportOptions): Promise<Manifest> {
  await mkdir(options.out, { recursive: true });
  const extension = options.format;
  const files: SetFile[] = [];
  try {
    for (const set of SETS) {
      const file = `${set}.${extension}`;
      const output = await openOutput(join(options.out, file));
      files.push({ set, file, output, text: formatter(options.format, SET_COLUMNS, options), count: 0 });
    }
    const { split, imageCount, first } = await firstPageOfOneSplit(api, options);
    const bySetTypeId = new Map(files.map((entry) => [SET_TYPE_IDS[entry.set] as number, entry]));
    for (const entry of files) await entry.output.write(entry.text.head());
    let unassigned = 0;
    let read = 0;
    const bar = progress("exporting", imageCount);
    try {
      for (let page: ImagePage | undefined = first; page; page = await nextPage(api, options, split, page)) {
        unassigned += await writePage(page.img_info_list, bySetTypeId);
        read += page.img_info_list.length;
        bar.update(read);
      }
    } finally {
      bar.stop();
    }
    // An earlier export's manifest goes first: files without a manifest are never taken for a whole export.
    await rm(join(options.out, MANIFEST_FILE), { force: true });
    for (const entry of files) {
      await entry.output.write(entry.text.tail());
      await entry.output.commit();
    }
    const manifest = manifestOf(api, options, split, files, unassigned);
    const output = await openOutput(join(options.out, MANIFEST_FILE));
    await output.write(`${JSON.stringify(manifest, null, 2)}\n`);
    await output.commit();
    return manifest;
  } catch (error) {
    await Promise.all(files.map((entry) => entry.output.discard()));
    throw error;
  }
}

/** Writes each image to its set's file; returns how many were in no set. */
async function writePage(images: Image[], bySetTypeId: Map<number, SetFile>): Promise<number> {
  const rows = new Map<SetFile, Image[]>();
  let unassigned = 0;
  for (const image of images) {
    const entry = image.set_type_id === null ? undefined : bySetTypeId.get(image.set_type_id);
    if (!entry) unassigned += 1;
    else {
      const list = rows.get(entry);
      if (list) list.push(image);
      else rows.set(entry, [image]);
    }
  }
  for (const [entry, list] of rows) {
    await entry.output.write(entry.text.rows(list));
    entry.count += list.length;
  }
  return unassigned;
}

/** The live split and the first page of images, read on that split. */
async function firstPageOfOneSplit(
  api: TrainingSetsClient,
  options: ExportOptions,
): Promise<{ split: SplitRecord; imageCount: number; first: ImagePage }> {
  for (let tries = 1; ; tries++) {
    const before = await liveSplit(api, options.taskId);
    const first = await api.getImages(options.taskId, pagingOf(options.limit));
    const after = await liveSplit(api, options.taskId);
    if (after.split.version === before.split.version) return { ...before, first };
    if (tries >= FIRST_PAGE_TRIES) {
      throw new CommandError(
        `task ${options.taskId} was split again during each of ${tries} tries to read its first page; nothing was written`,
      );
    }
    process.stderr.write(
      `exporting: split version ${after.split.version} was published meanwhile; reading it instead\n`,
    );
  }
}

async function liveSplit(api: TrainingSetsClient, taskId: string) {
  const summary = await api.listSetSummary(taskId);
  if (!summary.split) throw new CommandError(`task ${taskId} has never been split: there are no sets to export`);
  return { split: summary.split, imageCount: summary.image_count };
}

async function nextPage(
  api: TrainingSetsClient,
  options: ExportOptions,
  split: SplitRecord,
  page: ImagePage,
): Promise<ImagePage | undefined> {
  if (page.next_cursor === undefined) return undefined;
  try {
    return await api.getImages(options.taskId, { ...pagingOf(options.limit), cursor: page.next_cursor });
  } catch (error) {
    if (error instanceof TrainingSetsError && error.code === 1015) {
      throw new CommandError(
        `split version ${split.version} of task ${options.taskId} is no longer retained (1015: the task was split ` +
          "again many times while it was exported, and that split expired); nothing was written: run the export again",
      );
    }
    throw error;
  }
}

function manifestOf(
  api: TrainingSetsClient,
  options: ExportOptions,
  split: SplitRecord,
  files: SetFile[],
  unassigned: number,
): Manifest {
  return {
    task_id: options.taskId,
    split: {
      version: split.version,
      seed: split.seed,
      algorithm: split.algorithm,
      split_at: split.split_at,
      mode: split.mode,
      options: split.options,
      requested_sizes: split.requested_sizes,
      achieved_sizes: split.achieved_sizes,
    },
    format: options.format,
    ...(options.format === "csv" ? { csv_formulas: options.rawCsv ? "raw" : "escaped" } : {}),
    sets: Object.fromEntries(
      files.map((entry) => [entry.set, { file: entry.file, count: entry.count }]),
    ) as Manifest["sets"],
    unassigned_count: unassigned,
    exported_at: new Date().toISOString(),
    url: api.baseUrl,
    command: options.command,
  };
}
