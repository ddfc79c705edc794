import { Command, Option } from "commander";
import { createClient, DEFAULT_BASE_URL, type TrainingSetsClient } from "../client/index.ts";
import { kebabCaseOf } from "../lib/routes.ts";
import { commandLine, positiveInt } from "./arguments.ts";
import { EXPORT_FORMATS, type ExportFormat, exportSets, MANIFEST_FILE } from "./export.ts";
import { SET_COLUMNS } from "./list.ts";
import { RAW_CSV_HELP, ROUTE_COMMANDS } from "./route-commands.ts";

/**
 * The program: one command per route (cli/route-commands.ts), named by the route, and `export`,
 * built on GetImages and ListSet. `argv` is recorded in an export's manifest.
 */
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

  for (const [name, fill] of Object.entries(ROUTE_COMMANDS)) fill(root.command(kebabCaseOf(name)), client);

  root
    .command("export")
    .description(
      `Write the three sets of the task's live split into a folder in one go — training, verifying and testing, one file each, with the columns ${SET_COLUMNS.join(",")} — and ${MANIFEST_FILE}, naming the split (version, seed, algorithm, time, sizes), the files and their counts, and this command. Every page is read from that one split; if it is no longer retained before the end (1015), nothing is written. Built on get-images (the pages) and list-set (the summary).`,
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

  return root;
}
