/**
 * The split domain: one split of a task (read, plan, snapshot, publish, with answers that say only
 * what happened), the scheduled re-split of many tasks, the replay of a published split's answer
 * for an Idempotency-Key retry, and under `plan/` the pure, seeded planner with its shuffle. It
 * talks to storage only through the `Store` of `lib/store`, and to HTTP not at all.
 */
export { splitReplays } from "./replays.ts";
export { parseResplitEvent, resplitTasks } from "./resplit.ts";
export { splitTask } from "./split.ts";
