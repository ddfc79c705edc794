import type { Context } from "aws-lambda";
import { serviceLogger } from "../lib/log.ts";
import { flushMetrics } from "../lib/metrics.ts";
import { store } from "../lib/runtime.ts";
import { scheduleEngine } from "../lib/schedule/index.ts";
import { parseResplitEvent, resplitTasks } from "../lib/split/index.ts";
import { parseRunInput, runSchedule } from "../lib/split/resplit.ts";

/** Time kept free at the end of a run, so it can still settle its record. */
const SETTLE_MARGIN_MS = 10_000;

/**
 * A schedule's run (EventBridge Scheduler's input `{"task_key", "revision", "scheduled_time"}`,
 * lib/split/resplit.ts `runSchedule`), or a re-split of the tasks an event names
 * (`{"task_ids":[…]}`, each with the counts of its last split). Not HTTP: one log line and one
 * ResplitTasks metric by outcome a task, through the service's logger with the invocation's
 * context and, as correlation id, the event's id.
 */
export const handler = async (event: unknown, context?: Pick<Context, "getRemainingTimeInMillis">) => {
  const logger = serviceLogger();
  if (context && "awsRequestId" in context) logger.addContext(context as Context);
  const eventId = (event as { id?: unknown } | null)?.id;
  if (typeof eventId === "string") logger.setCorrelationId(eventId);
  try {
    const timeLeft = context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis() : undefined;
    const run = parseRunInput(event);
    if (run) {
      const budget = Math.min(store.config.budgetMs, timeLeft ? timeLeft() - SETTLE_MARGIN_MS : Infinity);
      const deadline = Date.now() + budget;
      return await runSchedule(store, scheduleEngine(), run, { deadline });
    }
    return await resplitTasks(store, parseResplitEvent(event), { timeLeft });
  } finally {
    logger.resetKeys();
    flushMetrics();
  }
};
