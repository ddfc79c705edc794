/**
 * The stack's guards when the context does not set them; docs/operations.md ("Guards and their
 * defaults") gives the numbers behind each.
 */
export const DEFAULTS = {
  /**
   * SplitTask's reserved concurrency. The stage lets 100 requests/s through and a split may run up
   * to 29 s: 2,900 at once, past the account's default 1,000 concurrent executions. 100 lets every
   * split of 1 s or less through at the stage's full rate and keeps 900 of the 1,000 for the rest.
   */
  splitReservedConcurrency: 100,
  /**
   * ResplitTasks' reserved concurrency: scheduled runs two at a time, however many tasks are due;
   * the others wait in Lambda's asynchronous queue (infra/schedules.ts, RUN_MAX_EVENT_AGE).
   */
  resplitReservedConcurrency: 2,
  /**
   * The table's and the order index's on-demand maximum, request units per second: a new on-demand
   * table's warm throughput (12,000 reads, 4,000 writes), four partitions' worth (3,000 / 1,000 each).
   */
  tableMaxReadRequestUnits: 12_000,
  tableMaxWriteRequestUnits: 4_000,
  /** Requests one client IP may send in 5 minutes before the web ACL blocks it: a fifth of the stage's 30,000. */
  wafRateLimit: 6_000,
  /** The tenant's claim under Cognito. */
  tenantClaim: "custom:tenant",
} as const;

/** AWS WAF's bounds on a rate-based rule's limit (requests in its evaluation window). */
export const WAF_RATE_LIMIT_RANGE = { min: 10, max: 2_000_000_000 } as const;
