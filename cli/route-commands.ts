import { type Command, Option } from "commander";
import {
  MAX_IDS_PER_DELETE,
  type ScheduleRequest,
  type SplitRequest,
  type TrainingSetsClient,
} from "../client/index.ts";
import type { DataRoute } from "../lib/routes.ts";
import { positiveInt, splitSummary, three, wholeNumber } from "./arguments.ts";
import { deleteImages, print, registerImages } from "./batches.ts";
import { UsageError } from "./errors.ts";
import { LIST_FORMATS, type ListFormat } from "./format.ts";
import { readIdsFile, splitIds } from "./ids.ts";
import { readImagesFile } from "./images-file.ts";
import { IMAGE_COLUMNS, imagesToFile, listToFile, SET_COLUMNS } from "./list.ts";

const SETS = ["training", "verifying", "testing"] as const;
const ORDER_NOTE =
  "Three values in the order training, verifying, testing. (The API's set_type_id numbers them differently: 0 training, 1 testing, 2 verifying.)";
export const RAW_CSV_HELP =
  "write CSV cells that start with =, +, -, @, a tab or a carriage return as they are (by default they get a leading ' so that a spreadsheet shows them instead of running them as formulas)";

/** The client, made once from the global options (--url, --token) of the command that runs. */
type ClientOf = (command: Command) => TrainingSetsClient;

/** Fills in a route's command: its description, options and action. */
type RouteCommand = (command: Command, client: ClientOf) => void;

interface ListingOpts {
  task: string;
  format: ListFormat;
  out?: string;
  limit?: number;
  rawCsv?: boolean;
}

/** The options that shape a written listing: --format, --out, --limit, --raw-csv. */
function withListingOptions(command: Command): Command {
  return command
    .addOption(new Option("--format <format>", "output format").choices(LIST_FORMATS).default("csv"))
    .option("--out <file>", "write here (through a temporary file renamed at the end) instead of stdout")
    .option("--limit <n>", "images per request (the API's default 5000)", positiveInt)
    .option("--raw-csv", RAW_CSV_HELP);
}

/** Refuses the listing options on the shape of a route's command that prints one answer. */
function refuseListingOptions(command: Command, shape: string): void {
  const given = ["format", "out", "limit", "rawCsv"].filter((name) => {
    const source = command.getOptionValueSource(name);
    return source !== undefined && source !== "default";
  });
  if (given.length > 0) {
    const flags = given.map((name) => `--${name === "rawCsv" ? "raw-csv" : name}`).join(", ");
    throw new UsageError(`${flags} ${given.length === 1 ? "writes" : "write"} a listing: ${shape}`);
  }
}

/** The split settings of --counts or --ratios, --stratify and --group-by, as the API names them. */
function splitSettings(opts: {
  counts?: [number, number, number];
  ratios?: [number, number, number];
  stratify?: string;
  groupBy?: string;
}): Record<string, unknown> {
  if (!opts.counts && !opts.ratios) throw new UsageError("give --counts or --ratios");
  const settings: Record<string, unknown> = {};
  if (opts.counts) {
    [settings.training_count, settings.verifying_count, settings.testing_count] = opts.counts;
  } else if (opts.ratios) {
    const [training, verifying, testing] = opts.ratios;
    settings.ratios = { training, verifying, testing };
  }
  // stratify_by / group_by values are the API's to judge (1019 names the rule).
  if (opts.stratify !== undefined) settings.stratify_by = opts.stratify;
  if (opts.groupBy !== undefined) settings.group_by = opts.groupBy;
  return settings;
}

/**
 * One command per route the CLI calls, keyed by the route's name in lib/routes.ts: the command is
 * that name in kebab case (SplitTask → split-task), and a route without an entry here does not
 * compile. In the order `--help` lists them.
 */
export const ROUTE_COMMANDS: { readonly [Name in DataRoute["name"]]: RouteCommand } = {
  RegisterImages: (command, client) =>
    command
      .description(
        "Register (upsert) a task's images from a file, in file order, 1000 a request, so order_ids follow the file. " +
          "Safe to rerun: known images are updated or left unchanged.",
      )
      .requiredOption("--task <task_id>", "the task")
      .requiredOption(
        "--file <file>",
        "images.json (an array of {img_id, img_name, state?, label?, group?}) or images.csv (UTF-8, BOM or not, a header row naming those fields; img_id and img_name required)",
      )
      .action(async (opts: { task: string; file: string }, self: Command) => {
        const images = await readImagesFile(opts.file);
        await registerImages(client(self), opts.task, images);
      }),

  SplitTask: (command, client) =>
    command
      .description(`Split a task's images at random and print the API's answer. ${ORDER_NOTE}`)
      .requiredOption("--task <task_id>", "the task")
      .addOption(
        new Option("--counts <t,v,s>", "image counts: training,verifying,testing (e.g. 7,2,1)")
          .argParser(three("counts"))
          .conflicts("ratios"),
      )
      .addOption(
        new Option("--ratios <t,v,s>", "shares of the task: training,verifying,testing (e.g. .7,.2,.1)")
          .argParser(three("ratios"))
          .conflicts("counts"),
      )
      .option("--seed <seed>", "makes the split reproducible (the answer always names the seed used)")
      .option("--stratify <field>", 'give each set each value of this field in proportion ("label")')
      .option("--group-by <field>", 'keep all images with one value of this field in one set ("group")')
      .option("--dry-run", "plan and print the split, write nothing")
      .option("--ids", "print the whole answer, every img_id of every set (default: set_sizes instead of the lists)")
      .addHelpText(
        "after",
        "\nExamples:\n  training-sets split-task --task 42 --counts 7,2,1 --seed demo\n  training-sets split-task --task 42 --ratios .7,.2,.1 --stratify label --dry-run\n  training-sets split-task --task 42 --counts 7,2,1 --ids > split.json",
      )
      .action(
        async (
          opts: Parameters<typeof splitSettings>[0] & { task: string; seed?: string; dryRun?: boolean; ids?: boolean },
          self: Command,
        ) => {
          const request: Record<string, unknown> = { task_id: opts.task, ...splitSettings(opts) };
          if (opts.seed !== undefined) request.seed = opts.seed;
          if (opts.dryRun) request.dry_run = true;
          const answer = await client(self).splitTask(request as SplitRequest);
          print(opts.ids ? answer : splitSummary(answer));
        },
      ),

  ListSet: (command, client) =>
    withListingOptions(
      command
        .description(
          `With --set, write every image of that set of the live split, with its label and group, in ascending order_id. csv: a header row ${SET_COLUMNS.join(",")}, RFC 4180 quoting, an empty cell for null, formulas escaped; json: one array; jsonl: one object a line; txt: one img_id a line. Reads the task's image listing, every page. Without --set, print the task's live split and its history (the route's summary).`,
        )
        .requiredOption("--task <task_id>", "the task")
        .addOption(new Option("--set <set>", "the set to write (without it: the summary)").choices(SETS)),
    ).action(async (opts: ListingOpts & { set?: (typeof SETS)[number] }, self: Command) => {
      if (opts.set === undefined) {
        refuseListingOptions(self, "give --set (without it, list-set prints the task's summary)");
        print(await client(self).listSetSummary(opts.task));
        return;
      }
      const count = await listToFile(client(self), { taskId: opts.task, ...opts, set: opts.set });
      process.stderr.write(`${opts.set}: ${count} images${opts.out ? ` written to ${opts.out}` : ""}\n`);
    }),

  GetImages: (command, client) =>
    withListingOptions(
      command
        .description(
          `Without --img, write every image of the task (deleted ones left out), every page, in ascending order_id, each with its set in the live split. csv: a header row ${IMAGE_COLUMNS.join(",")}, RFC 4180 quoting, an empty cell for null, formulas escaped; json: one array; jsonl: one object a line; txt: one img_id a line. With --img, print that image: its name, state, order_id, label, group and set in the live split (set_type_id: 0 training, 1 testing, 2 verifying, null unassigned); an unknown or deleted image is error 1026.`,
        )
        .requiredOption("--task <task_id>", "the task")
        .option("--img <img_id>", "the image to print (without it: every image of the task)"),
    ).action(async (opts: ListingOpts & { img?: string }, self: Command) => {
      if (opts.img !== undefined) {
        refuseListingOptions(self, "leave out --img (with it, get-images prints that one image)");
        print(await client(self).getImagesById(opts.task, opts.img));
        return;
      }
      const count = await imagesToFile(client(self), { taskId: opts.task, ...opts });
      process.stderr.write(`images: ${count} images${opts.out ? ` written to ${opts.out}` : ""}\n`);
    }),

  DeleteImages: (command, client) =>
    command
      .description(
        `Delete images of a task (logically, as the legacy platform's is_del), ${MAX_IDS_PER_DELETE} a request, and print the totals: deleted, already_deleted, not_found and the images left. Safe to rerun: images deleted before count as already_deleted.`,
      )
      .requiredOption("--task <task_id>", "the task")
      .addOption(new Option("--ids <a,b,c>", "the img_ids, comma-separated").conflicts("file"))
      .addOption(
        new Option(
          "--file <file>",
          "a text file of img_ids, one a line (UTF-8, BOM or not; blank lines skipped)",
        ).conflicts("ids"),
      )
      .addHelpText(
        "after",
        "\nExamples:\n  training-sets delete-images --task 42 --ids 3,7\n  training-sets delete-images --task 42 --file mistakes.txt",
      )
      .action(async (opts: { task: string; ids?: string; file?: string }, self: Command) => {
        if (opts.ids === undefined && opts.file === undefined) throw new UsageError("give --ids or --file");
        const ids = opts.file !== undefined ? await readIdsFile(opts.file) : splitIds(opts.ids ?? "");
        await deleteImages(client(self), opts.task, ids);
      }),

  SetSchedule: (command, client) =>
    command
      .description(
        `Create or replace the task's schedule of re-splits (EventBridge Scheduler when deployed, in-process under npm start); each run splits with a fresh seed. ${ORDER_NOTE}`,
      )
      .requiredOption("--task <task_id>", "the task")
      .requiredOption(
        "--expression <expression>",
        "rate(1 day), cron(0 2 * * ? *) … as EventBridge Scheduler reads them",
      )
      .option("--timezone <timezone>", "an IANA time zone for cron expressions (default UTC)")
      .addOption(new Option("--counts <t,v,s>", "image counts: training,verifying,testing").argParser(three("counts")))
      .addOption(
        new Option("--ratios <t,v,s>", "shares of the task: training,verifying,testing")
          .argParser(three("ratios"))
          .conflicts("counts"),
      )
      .addOption(
        new Option("--mode <mode>", "fresh: reshuffle all; keep: only new images join the sets").choices([
          "fresh",
          "keep",
        ]),
      )
      .option("--stratify <field>", 'give each set each value of this field in proportion ("label")')
      .option("--group-by <field>", 'keep all images with one value of this field in one set ("group")')
      .option("--window <minutes>", "EventBridge's flexible window, 0–60 minutes (default 0)", wholeNumber)
      .option("--disabled", "keep the schedule without running it")
      .addHelpText(
        "after",
        '\nExample:\n  training-sets set-schedule --task 42 --expression "cron(0 2 * * ? *)" --timezone Europe/Berlin --counts 7,2,1 --mode keep',
      )
      .action(
        async (
          opts: Parameters<typeof splitSettings>[0] & {
            task: string;
            expression: string;
            timezone?: string;
            mode?: "fresh" | "keep";
            window?: number;
            disabled?: boolean;
          },
          self: Command,
        ) => {
          const split = splitSettings(opts);
          if (opts.mode !== undefined) split.mode = opts.mode;
          const request: Record<string, unknown> = { task_id: opts.task, expression: opts.expression, split };
          if (opts.timezone !== undefined) request.timezone = opts.timezone;
          if (opts.window !== undefined) request.window_minutes = opts.window;
          if (opts.disabled) request.enabled = false;
          print(await client(self).setSchedule(request as ScheduleRequest));
        },
      ),

  GetSchedule: (command, client) =>
    command
      .description("Print the task's schedule, its next run and its last 20 runs")
      .requiredOption("--task <task_id>", "the task")
      .action(async (opts: { task: string }, self: Command) => {
        print(await client(self).getSchedule(opts.task));
      }),

  DeleteSchedule: (command, client) =>
    command
      .description("Stop and remove the task's schedule (deleted: false when there was none)")
      .requiredOption("--task <task_id>", "the task")
      .action(async (opts: { task: string }, self: Command) => {
        print(await client(self).deleteSchedule(opts.task));
      }),
};
