import { InvalidArgumentError } from "commander";
import type { SplitResponse } from "../client/index.ts";

/** A parser of `--counts 7,2,1` or `--ratios .7,.2,.1`: three values, training, verifying, testing. */
export function three(kind: "counts" | "ratios") {
  return (value: string): [number, number, number] => {
    const parts = value.split(",").map((part) => part.trim());
    const numbers = parts.map(Number);
    const ok =
      parts.length === 3 &&
      parts.every((part) => part !== "") &&
      numbers.every((n) => Number.isFinite(n) && n >= 0 && (kind === "ratios" || Number.isInteger(n)));
    if (!ok) {
      throw new InvalidArgumentError(
        kind === "counts"
          ? "expected three non-negative integers: training,verifying,testing (e.g. 7,2,1)"
          : "expected three numbers in [0, 1]: training,verifying,testing (e.g. .7,.2,.1)",
      );
    }
    return numbers as [number, number, number];
  };
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError("expected a positive integer");
  return Number(value);
}

/** An integer ≥ 0 (the API judges its range). */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number");
  return Number(value);
}

/** The command line as a shell would take it back, with a --token's value hidden. */
export function commandLine(argv: readonly string[]): string {
  const shown = argv.map((arg, i) =>
    argv[i - 1] === "--token" ? "<token>" : arg.startsWith("--token=") ? "--token=<token>" : arg,
  );
  const quoted = shown.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`));
  return ["training-sets", ...quoted].join(" ");
}

/**
 * A split's answer without its lists of ids: the version, seed and sizes (`set_sizes`, counted
 * from the lists when the answer carried them) and the rest of its account.
 */
export function splitSummary(answer: SplitResponse): Record<string, unknown> {
  const { img_ids_set_training, img_ids_set_verifying, img_ids_set_testing, ...rest } = answer;
  const set_sizes = answer.set_sizes ?? {
    training: img_ids_set_training?.length ?? 0,
    verifying: img_ids_set_verifying?.length ?? 0,
    testing: img_ids_set_testing?.length ?? 0,
  };
  return { ...rest, set_sizes };
}
