/**
 * `training-sets`: the command line on top of the typed client (client/index.ts).
 * Exit codes: 0 done, 1 the API or the network failed (its code, msg and detail on stderr),
 * 2 bad usage (options, files). bin/training-sets.js runs this file with tsx; the commands are in
 * cli/program.ts.
 */
import { CommanderError } from "commander";
import { TrainingSetsError, TrainingSetsNetworkError } from "../client/index.ts";
import { CommandError, UsageError } from "./errors.ts";
import { program } from "./program.ts";

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
