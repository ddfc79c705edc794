import type { Context } from "aws-lambda";
import { parseResplitEvent, resplitTasks } from "../lib/resplit.ts";
import { store } from "../lib/runtime.ts";

/**
 * Scheduled re-split (EventBridge, not HTTP): re-splits each task named by the event with the
 * counts of its last split and a fresh seed, and reports per task what happened.
 */
export const handler = async (event: unknown, context?: Pick<Context, "getRemainingTimeInMillis">) => {
  const taskIds = parseResplitEvent(event);
  const timeLeft = context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis() : undefined;
  return resplitTasks(store, taskIds, { timeLeft });
};
