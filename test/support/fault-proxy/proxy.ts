import type { CapacityModel, CapacityOptions, Json } from "../capacity-model/index.ts";
import type { Call } from "./calls.ts";
import type { ConflictOptions } from "./conflicts.ts";
import type { Fault, Policy } from "./faults.ts";

/** One finished call, for assertions on what happened in which order. */
export interface LoggedCall {
  seq: number;
  operation: string;
  input: Json;
  /** "conflict": refused because an in-flight transaction held an item it touches (option `conflicts`). */
  fault: Fault["kind"] | "dead" | "conflict";
  /** Time the call arrived and the time it was answered (or dropped). */
  at: number;
  done: number;
  /** HTTP status DynamoDB (or the proxy) answered; undefined when the connection was dropped. */
  status: number | undefined;
}

/** Marks a logged call answered (or dropped, status undefined) now. */
export function markDone(entry: LoggedCall, status: number | undefined): void {
  entry.done = Date.now();
  entry.status = status;
}

export interface FaultProxyOptions {
  /** Apply DynamoDB's per-partition limits (test/support/capacity-model/); true = the documented defaults. */
  capacity?: boolean | CapacityOptions;
  /** Raise transaction conflicts as DynamoDB does (conflicts.ts); true = the default hold. */
  conflicts?: boolean | ConflictOptions;
  /**
   * The clock of the index lag and, unless `capacity.now` is given, of the capacity model, in ms
   * (default Date.now): a test that moves it itself asserts in modelled time, whatever the load.
   */
  now?: () => number;
}

export interface FaultProxy {
  /** Where to point a DynamoDB client (or DYNAMODB_ENDPOINT). */
  endpoint: string;
  /**
   * Decides each call's fate; undefined (or returning undefined) lets everything through. Applied
   * before the capacity model: a call the policy throttles, fails or drops is not charged.
   */
  policy: Policy | undefined;
  /**
   * Simulated index lag (0 = DynamoDB Local's instant indexes): an index entry that a write through
   * this proxy creates or moves (an item's index key, e.g. order_block, set to a new value) shows up
   * in Queries of that index only this many ms (of the clock `now`) after the write was answered;
   * entries the write left alone stay visible. Set it before the writes it should affect.
   */
  indexLagMs: number;
  /**
   * With `conflicts`: a TransactWriteItems for which this returns a promise stays in flight, its
   * items held, until the promise settles (after holdMs), so a test can overlap calls with it
   * exactly. Called just before the transaction is forwarded, its items held.
   */
  holdTransaction: ((call: Call) => Promise<unknown> | undefined) | undefined;
  /** The capacity model when started with `capacity`: consumed(), reset(). */
  readonly capacity: CapacityModel | undefined;
  /** Every call so far, in arrival order. */
  readonly log: LoggedCall[];
  /** How many calls of `operation` arrived ("BatchWriteItem" or "BatchWriteItemCommand"). */
  calls(operation: string): number;
  /** How many calls of `operation` DynamoDB answered with 2xx. */
  completed(operation: string): number;
  /** How many image rows were written by calls DynamoDB answered with 2xx (see imageWrites). */
  readonly imagesWritten: number;
  /** Calls refused with a transaction conflict (option `conflicts`), since the start. */
  readonly conflictsInjected: number;
  /** The process behind this proxy died: from now on every call is dropped, and so is every answer still in flight. */
  kill(): void;
  readonly dead: boolean;
  /**
   * What the calls a dead process still makes get (default "drop": the connection closes, and the
   * doomed code retries them until its deadline). "refuse" answers them with a 400 that no caller
   * retries, so the doomed code ends at once and a test need not give it a deadline sized to reach
   * its boundary. The call being sent when the process died and the answers in flight are dropped
   * either way, and nothing reaches DynamoDB after the death.
   */
  afterDeath: "drop" | "refuse";
  /**
   * A new process on the same path: alive again, no policy, no index lag, no holdTransaction,
   * afterDeath "drop" (the log, counters and capacity are kept).
   */
  reset(): void;
  close(): Promise<void>;
}
