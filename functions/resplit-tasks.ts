import type { Context } from "aws-lambda";
import { serviceLogger } from "../lib/log.ts";
import { flushMetrics } from "../lib/metrics.ts";
import { store } from "../lib/runtime.ts";
import { parseResplitEvent, resplitTasks } from "../lib/split/index.ts";

/**
 * Scheduled re-split (EventBridge, not HTTP): re-splits each task named by the event with the
 * counts of its last split and a fresh seed, and reports per task what happened (one log line and
 * one ResplitTasks metric by outcome a task, lib/split/resplit.ts), through the service's logger with the
 * invocation's context and, as correlation id, the EventBridge event's id.
 */
export const handler = async (event: unknown, context?: Pick<Context, "getRemainingTimeInMillis">) => {
  const logger = serviceLogger();
  if (context && "awsRequestId" in context) logger.addContext(context as Context);
  const eventId = (event as { id?: unknown } | null)?.id;
  if (typeof eventId === "string") logger.setCorrelationId(eventId);
  try {
    const taskIds = parseResplitEvent(event);
    const timeLeft = context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis() : undefined;
    return await resplitTasks(store, taskIds, { timeLeft });
  } finally {
    logger.resetKeys();
    flushMetrics();
  }
};
