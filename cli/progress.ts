import cliProgress from "cli-progress";

/**
 * Progress on stderr: a bar when stderr is a terminal, else one line per step (logs, CI, pipes),
 * so stdout carries only the command's result.
 */
export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

export function progress(label: string, total: number | undefined): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {percentage}% | {duration_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, newTotal) {
        if (!started) {
          bar.start(newTotal ?? total ?? done, done);
          started = true;
        }
        if (newTotal !== undefined) bar.setTotal(newTotal);
        else if (total === undefined || done > total) bar.setTotal(done);
        bar.update(done);
      },
      stop: () => started && bar.stop(),
    };
  }
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      process.stderr.write(`${label}: ${done}${total === undefined ? "" : `/${total}`}\n`);
    },
    stop() {},
  };
}
