/**
 * `training-sets`: the command line on top of the typed client (client/index.ts).
 * Exit codes: 0 done, 1 the API or the network failed (its code, msg and detail on stderr),
 * 2 bad usage (options, files). bin/training-sets.js runs this file with tsx.
 */
import { Command, CommanderError, Option } from "commander";
import {
  createClient,
  DEFAULT_BASE_URL,
  MAX_IDS_PER_DELETE,
  type ScheduleRequest,
  type SetName,
  type SplitRequest,
  type TrainingSetsClient,
  TrainingSetsError,
  TrainingSetsNetworkError,
} from "../client/index.ts";
import { commandLine, positiveInt, splitSummary, three, wholeNumber } from "./arguments.ts";
import { deleteImages, print, registerImages } from "./batches.ts";
import { CommandError, UsageError } from "./errors.ts";
import { EXPORT_FORMATS, type ExportFormat, exportSets, MANIFEST_FILE } from "./export.ts";
import { LIST_FORMATS, type ListFormat } from "./format.ts";
import { readIdsFile, splitIds } from "./ids.ts";
import { readImagesFile } from "./images-file.ts";
import { IMAGE_COLUMNS, imagesToFile, listToFile, SET_COLUMNS } from "./list.ts";

const SETS = ["training", "verifying", "testing"] as const;
const ORDER_NOTE =
  "Three values in the order training, verifying, testing. (The API's set_type_id numbers them differently: 0 training, 1 testing, 2 verifying.)";
const RAW_CSV_HELP =
  "write CSV cells that start with =, +, -, @, a tab or a carriage return as they are (by default they get a leading ' so that a spreadsheet shows them instead of running them as formulas)";

/** The program; `argv` is recorded in an export's manifest. */
export function program(argv: readonly string[] = []): Command {
  let api: TrainingSetsClient | undefined;
  const client = (command: Command): TrainingSetsClient => {
    const { url, token } = command.optsWithGlobals() as { url: string; token?: string };
    api ??= createClient({
      baseUrl: url,
      token,
      onRetry: ({ attempt, delayMs, reason }) =>
        process.stderr.write(`retrying (${attempt}) in ${delayMs} ms after ${reason}\n`),
    });
    return api;
  };

  const root = new Command("training-sets")
    .description("Register a task's images, split them into training, verifying and testing sets, and list each set.")
    .addOption(new Option("--url <url>", "the API's base URL").env("TRAINING_SETS_URL").default(DEFAULT_BASE_URL))
    .addOption(
      new Option(
        "--token <token>",
        "a Cognito token, sent as Authorization: Bearer (a stage with a Cognito authorizer); without it, a non-loopback URL is signed with SigV4 and your AWS credentials",
      ).env("TRAINING_SETS_TOKEN"),
    )
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  root
    .command("register")
    .description(
      "Register (upsert) a task's images from a file, in file order, 1000 a request, so order_ids follow the file. " +
        "Safe to rerun: known images are updated or left unchanged.",
    )
    .requiredOption("--task <task_id>", "the task")
    .requiredOption(
      "--file <file>",
      "images.json (an array of {img_id, img_name, state?, label?, group?}) or images.csv (UTF-8, BOM or not, a header row naming those fields; img_id and img_name required)",
    )
    .action(async (opts: { task: string; file: string }, command: Command) => {
      const images = await readImagesFile(opts.file);
      await registerImages(client(command), opts.task, images);
    });

  root
    .command("split")
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
      "\nExamples:\n  training-sets split --task 42 --counts 7,2,1 --seed demo\n  training-sets split --task 42 --ratios .7,.2,.1 --stratify label --dry-run\n  training-sets split --task 42 --counts 7,2,1 --ids > split.json",
    )
    .action(
      async (
        opts: {
          task: string;
          counts?: [number, number, number];
          ratios?: [number, number, number];
          seed?: string;
          stratify?: string;
          groupBy?: string;
          dryRun?: boolean;
          ids?: boolean;
        },
        command: Command,
      ) => {
        if (!opts.counts && !opts.ratios) throw new UsageError("give --counts or --ratios");
        const request: Record<string, unknown> = { task_id: opts.task };
        if (opts.counts) {
          [request.training_count, request.verifying_count, request.testing_count] = opts.counts;
        } else if (opts.ratios) {
          const [training, verifying, testing] = opts.ratios;
          request.ratios = { training, verifying, testing };
        }
        if (opts.seed !== undefined) request.seed = opts.seed;
        if (opts.stratify !== undefined) request.stratify_by = opts.stratify;
        if (opts.groupBy !== undefined) request.group_by = opts.groupBy;
        if (opts.dryRun) request.dry_run = true;
        // stratify_by / group_by values are the API's to judge (1019 names the rule).
        const answer = await client(command).split(request as SplitRequest);
        print(opts.ids ? answer : splitSummary(answer));
      },
    );

  const schedule = root
    .command("schedule")
    .description("A task's schedule of re-splits (EventBridge Scheduler when deployed, in-process under npm start)");
  schedule
    .command("set")
    .description(`Create or replace the task's schedule; each run splits with a fresh seed. ${ORDER_NOTE}`)
    .requiredOption("--task <task_id>", "the task")
    .requiredOption("--expression <expression>", "rate(1 day), cron(0 2 * * ? *) … as EventBridge Scheduler reads them")
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
      '\nExample:\n  training-sets schedule set --task 42 --expression "cron(0 2 * * ? *)" --timezone Europe/Berlin --counts 7,2,1 --mode keep',
    )
    .action(
      async (
        opts: {
          task: string;
          expression: string;
          timezone?: string;
          counts?: [number, number, number];
          ratios?: [number, number, number];
          mode?: "fresh" | "keep";
          stratify?: string;
          groupBy?: string;
          window?: number;
          disabled?: boolean;
        },
        command: Command,
      ) => {
        if (!opts.counts && !opts.ratios) throw new UsageError("give --counts or --ratios");
        const split: Record<string, unknown> = {};
        if (opts.counts) [split.training_count, split.verifying_count, split.testing_count] = opts.counts;
        else if (opts.ratios) {
          const [training, verifying, testing] = opts.ratios;
          split.ratios = { training, verifying, testing };
        }
        if (opts.mode !== undefined) split.mode = opts.mode;
        if (opts.stratify !== undefined) split.stratify_by = opts.stratify;
        if (opts.groupBy !== undefined) split.group_by = opts.groupBy;
        const request: Record<string, unknown> = { task_id: opts.task, expression: opts.expression, split };
        if (opts.timezone !== undefined) request.timezone = opts.timezone;
        if (opts.window !== undefined) request.window_minutes = opts.window;
        if (opts.disabled) request.enabled = false;
        print(await client(command).setSchedule(request as ScheduleRequest));
      },
    );
  schedule
    .command("show")
    .description("Print the task's schedule, its next run and its last 20 runs")
    .requiredOption("--task <task_id>", "the task")
    .action(async (opts: { task: string }, command: Command) => {
      print(await client(command).schedule(opts.task));
    });
  schedule
    .command("delete")
    .description("Stop and remove the task's schedule (deleted: false when there was none)")
    .requiredOption("--task <task_id>", "the task")
    .action(async (opts: { task: string }, command: Command) => {
      print(await client(command).deleteSchedule(opts.task));
    });

  root
    .command("summary")
    .description("Print the task's live split and its history (the API's GET without set_type_id).")
    .requiredOption("--task <task_id>", "the task")
    .action(async (opts: { task: string }, command: Command) => {
      print(await client(command).summary(opts.task));
    });

  root
    .command("list")
    .description(
      `Write every image of one set of the live split, with its label and group, in ascending order_id. csv: a header row ${SET_COLUMNS.join(",")}, RFC 4180 quoting, an empty cell for null, formulas escaped; json: one array; jsonl: one object a line; txt: one img_id a line. Reads the task's image listing, every page.`,
    )
    .requiredOption("--task <task_id>", "the task")
    .addOption(new Option("--set <set>", "the set").choices(SETS).makeOptionMandatory())
    .addOption(new Option("--format <format>", "output format").choices(LIST_FORMATS).default("csv"))
    .option("--out <file>", "write here (through a temporary file renamed at the end) instead of stdout")
    .option("--limit <n>", "images per request (the API's default 5000)", positiveInt)
    .option("--raw-csv", RAW_CSV_HELP)
    .action(
      async (
        opts: { task: string; set: SetName; format: ListFormat; out?: string; limit?: number; rawCsv?: boolean },
        command: Command,
      ) => {
        const count = await listToFile(client(command), { taskId: opts.task, ...opts });
        process.stderr.write(`${opts.set}: ${count} images${opts.out ? ` written to ${opts.out}` : ""}\n`);
      },
    );

  root
    .command("export")
    .description(
      `Write the three sets of the task's live split into a folder in one go — training, verifying and testing, one file each, with the columns ${SET_COLUMNS.join(",")} — and ${MANIFEST_FILE}, naming the split (version, seed, algorithm, time, sizes), the files and their counts, and this command. Every page is read from that one split; if it is no longer retained before the end (1015), nothing is written.`,
    )
    .requiredOption("--task <task_id>", "the task")
    .requiredOption("--out <dir>", "the folder (made when missing; files of an earlier export are replaced)")
    .addOption(new Option("--format <format>", "file format").choices(EXPORT_FORMATS).default("csv"))
    .option("--limit <n>", "images per request (the API's default 5000)", positiveInt)
    .option("--raw-csv", RAW_CSV_HELP)
    .addHelpText("after", "\nExample:\n  training-sets export --task 42 --format jsonl --out sets/")
    .action(
      async (
        opts: { task: string; out: string; format: ExportFormat; limit?: number; rawCsv?: boolean },
        command: Command,
      ) => {
        const manifest = await exportSets(client(command), {
          taskId: opts.task,
          ...opts,
          command: commandLine(argv),
        });
        const counts = Object.entries(manifest.sets).map(([set, { count }]) => `${set} ${count}`);
        process.stderr.write(
          `split version ${manifest.split.version}: ${counts.join(", ")} images written to ${opts.out}\n`,
        );
      },
    );

  root
    .command("image")
    .description(
      "Print one image of a task: its name, state, order_id, label, group and set in the live split (set_type_id: 0 training, 1 testing, 2 verifying, null unassigned). An unknown or deleted image is error 1026.",
    )
    .requiredOption("--task <task_id>", "the task")
    .requiredOption("--img <img_id>", "the image")
    .action(async (opts: { task: string; img: string }, command: Command) => {
      print(await client(command).image(opts.task, opts.img));
    });

  root
    .command("images")
    .description(
      `Write every image of the task (deleted ones left out), every page, in ascending order_id, each with its set in the live split. csv: a header row ${IMAGE_COLUMNS.join(",")}, RFC 4180 quoting, an empty cell for null, formulas escaped; json: one array; jsonl: one object a line; txt: one img_id a line.`,
    )
    .requiredOption("--task <task_id>", "the task")
    .addOption(new Option("--format <format>", "output format").choices(LIST_FORMATS).default("csv"))
    .option("--out <file>", "write here (through a temporary file renamed at the end) instead of stdout")
    .option("--limit <n>", "images per request (the API's default 5000)", positiveInt)
    .option("--raw-csv", RAW_CSV_HELP)
    .action(
      async (
        opts: { task: string; format: ListFormat; out?: string; limit?: number; rawCsv?: boolean },
        command: Command,
      ) => {
        const count = await imagesToFile(client(command), { taskId: opts.task, ...opts });
        process.stderr.write(`images: ${count} images${opts.out ? ` written to ${opts.out}` : ""}\n`);
      },
    );

  root
    .command("delete")
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
      "\nExamples:\n  training-sets delete --task 42 --ids 3,7\n  training-sets delete --task 42 --file mistakes.txt",
    )
    .action(async (opts: { task: string; ids?: string; file?: string }, command: Command) => {
      if (opts.ids === undefined && opts.file === undefined) throw new UsageError("give --ids or --file");
      const ids = opts.file !== undefined ? await readIdsFile(opts.file) : splitIds(opts.ids ?? "");
      await deleteImages(client(command), opts.task, ids);
    });

  return root;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program(argv).parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n(add --help for usage)\n`);
      return 2;
    }
    if (error instanceof TrainingSetsError) {
      const lines = [`error ${error.code ?? "(not the API's answer)"} (HTTP ${error.status}): ${error.msg}`];
      if (error.detail) lines.push(`detail: ${error.detail}`);
      if (error.requestId) lines.push(`request_id: ${error.requestId}`);
      process.stderr.write(`${lines.join("\n")}\n`);
      return 1;
    }
    if (error instanceof CommandError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    if (error instanceof TrainingSetsNetworkError) {
      process.stderr.write(`error: no answer from the API: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
