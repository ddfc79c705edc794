import { SET_TYPE_IDS, type SetName, type TrainingSetsClient, TrainingSetsError } from "../client/index.ts";
import { CommandError } from "./errors.ts";
import { type FormatOptions, formatter, type ListFormat, type Row } from "./format.ts";
import { type Output, openOutput } from "./output.ts";
import { progress } from "./progress.ts";

/** The columns of a set's images (`list`, `export`). */
export const SET_COLUMNS = ["img_id", "img_name", "state", "order_id", "label", "group"] as const;
/** The columns of `images` (the task's images, each with its set in the live split). */
export const IMAGE_COLUMNS = [...SET_COLUMNS, "set_type_id"] as const;
/** How many times a listing starts again after 1015 (the split was made again under it). */
const RESTARTS = 5;

interface ListingOptions extends FormatOptions {
  taskId: string;
  format: ListFormat;
  /** Write here (through a temporary file) instead of stdout. */
  out?: string | undefined;
  /** Images per request. */
  limit?: number | undefined;
}

/** What a listing reads: the task's images page by page, keeping those that belong to it. */
interface Listing {
  /** For progress and messages, e.g. "training" or "images". */
  label: string;
  columns: readonly string[];
  /** The images the task holds (the progress total); undefined when unknown. */
  total: () => Promise<number | undefined>;
  keep: (image: Row) => boolean;
}

export const pagingOf = (limit: number | undefined) => (limit ? { limit } : {});

/**
 * Every image of a listing into `out` (or stdout), every page following next_cursor, through an
 * Output: nothing reaches `out` until the whole listing is read, and a 1015 (the split was made
 * again under the reader) starts again from the first page with the partial text thrown away.
 */
async function listingToOutput(api: TrainingSetsClient, listing: Listing, options: ListingOptions): Promise<number> {
  const output = await openOutput(options.out);
  try {
    let count = 0;
    for (let restart = 0; ; restart++) {
      try {
        count = await writeListing(api, listing, options, output);
        break;
      } catch (error) {
        if (!(error instanceof TrainingSetsError && error.code === 1015) || restart >= RESTARTS) throw error;
        process.stderr.write(`${listing.label}: the task was split again while listing (1015); starting over\n`);
        await output.restart();
      }
    }
    await output.commit();
    return count;
  } catch (error) {
    await output.discard();
    throw error;
  }
}

async function writeListing(
  api: TrainingSetsClient,
  listing: Listing,
  options: ListingOptions,
  output: Output,
): Promise<number> {
  const total = await listing.total();
  const bar = progress(`listing ${listing.label}`, total);
  try {
    const text = formatter(options.format, listing.columns, options);
    await output.write(text.head());
    let count = 0;
    let read = 0;
    for await (const page of api.getImagesPages(options.taskId, pagingOf(options.limit))) {
      const kept = page.img_info_list.filter(listing.keep);
      await output.write(text.rows(kept));
      count += kept.length;
      read += page.img_info_list.length;
      bar.update(read);
    }
    await output.write(text.tail());
    return count;
  } finally {
    bar.stop();
  }
}

/**
 * Every image of a set with its label and group (columns SET_COLUMNS), read from the task's image
 * listing, which gives each image its set in the one split its cursor keeps reading; see
 * listingToOutput. A task never split has no sets: an error, as the API's 1010 says of an empty set.
 */
export function listToFile(api: TrainingSetsClient, options: ListingOptions & { set: SetName }): Promise<number> {
  const setTypeId = SET_TYPE_IDS[options.set];
  return listingToOutput(
    api,
    {
      label: options.set,
      columns: SET_COLUMNS,
      total: async () => {
        const summary = await api.listSetSummary(options.taskId);
        if (!summary.split) {
          throw new CommandError(`task ${options.taskId} has never been split, so its ${options.set} set is empty`);
        }
        return summary.image_count;
      },
      keep: (image) => image.set_type_id === setTypeId,
    },
    options,
  );
}

/** Every image of the task, deleted ones left out (columns IMAGE_COLUMNS); see listingToOutput. */
export function imagesToFile(api: TrainingSetsClient, options: ListingOptions): Promise<number> {
  return listingToOutput(
    api,
    {
      label: "images",
      columns: IMAGE_COLUMNS,
      // The summary's image_count is only for progress: a task without images is the API's 1003.
      total: async () => {
        try {
          return (await api.listSetSummary(options.taskId)).image_count || undefined;
        } catch {
          return undefined;
        }
      },
      keep: () => true,
    },
    options,
  );
}
