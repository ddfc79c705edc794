import { type EngineSchedule, type RunInput, type ScheduleEngine, scheduledTimeText } from "./engine.ts";
import { parseExpression } from "./expression.ts";
import { nextRunAt, type ScheduleTiming } from "./next-run.ts";

/** setTimeout's longest delay (about 24.8 days); a later run is re-armed on the way. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Entry {
  readonly schedule: EngineSchedule;
  readonly timing: ScheduleTiming;
  timer?: NodeJS.Timeout;
}

/**
 * The engine of the local server: the schedules in memory, each fired with a timer at its next run
 * (the same next_run_at the API answers, daylight-saving rules included), re-armed after every run.
 * Until `start` is given a runner it only keeps the schedules (the tests, `npm run invoke`).
 * The flexible window is not applied: a local run starts on time.
 */
export class LocalScheduleEngine implements ScheduleEngine {
  private readonly entries = new Map<string, Entry>();
  private run: ((input: RunInput) => Promise<void>) | undefined;

  async put(name: string, schedule: EngineSchedule): Promise<void> {
    this.disarm(name);
    const timing = {
      expression: parseExpression(schedule.expression),
      timezone: schedule.timezone,
      startDate: schedule.startDate,
    };
    this.entries.set(name, { schedule, timing });
    this.arm(name, Date.now());
  }

  async delete(name: string): Promise<void> {
    this.disarm(name);
    this.entries.delete(name);
  }

  async has(name: string): Promise<boolean> {
    return this.entries.has(name);
  }

  /** The schedule kept under `name`, as last put. */
  get(name: string): EngineSchedule | undefined {
    return this.entries.get(name)?.schedule;
  }

  /** Fires every enabled schedule at its next runs with `run` from now on. */
  start(run: (input: RunInput) => Promise<void>): void {
    this.run = run;
    for (const name of this.entries.keys()) this.arm(name, Date.now());
  }

  /** No more runs; the schedules are kept. */
  stop(): void {
    this.run = undefined;
    for (const name of this.entries.keys()) this.disarm(name);
  }

  private disarm(name: string) {
    const entry = this.entries.get(name);
    if (entry?.timer) clearTimeout(entry.timer);
    if (entry) entry.timer = undefined;
  }

  /** Arms the first run after `after` (epoch ms). */
  private arm(name: string, after: number) {
    const entry = this.entries.get(name);
    if (!entry || !this.run || !entry.schedule.enabled) return;
    const due = nextRunAt(entry.timing, new Date(after));
    if (due === null) return;
    const wait = due.getTime() - Date.now();
    entry.timer = setTimeout(
      () => {
        entry.timer = undefined;
        if (due.getTime() > Date.now()) return this.arm(name, after);
        const run = this.run;
        if (!run || this.entries.get(name) !== entry) return;
        this.arm(name, due.getTime());
        void run({ ...entry.schedule.input, scheduled_time: scheduledTimeText(due) });
      },
      Math.max(0, Math.min(wait, MAX_DELAY_MS)),
    );
    entry.timer.unref();
  }
}
