import type { Charge } from "./charges.ts";

/**
 * Buckets
 * - One token bucket per partition key value: for the table (key: the table's partition key value,
 *   e.g. task_id) and for each GSI (key: the index partition key value, e.g. order_block), kept
 *   apart per table name. Default rates 1,000 WCU/s and 3,000 RCU/s for every bucket, table and
 *   index alike (`CapacityOptions`). A bucket starts full, holds one second of its rate (no burst
 *   credit) and refills continuously; it may go below zero (debt) when a cost is only known after
 *   the call, and then admits nothing until it has refilled above the threshold.
 *
 * Admission
 * - A write is admitted when every bucket it needs holds its units (summed over the actions of a
 *   transaction), or is full (so an item costing more than a bucket holds still goes through, into
 *   debt). Its estimate is taken at once and settled to the actual cost later.
 * - A read is admitted when its bucket is above zero, and reserves the most it can cost while in
 *   flight, so that parallel reads cannot all slip in; the reservation is then replaced by the
 *   actual cost.
 * - Scan and TransactGetItems are counted, never throttled (a Scan spans partitions).
 */

export interface CapacityOptions {
  /** Write units per second of each partition, table and index alike (default 1,000). */
  writeUnitsPerSecond?: number;
  /** Read units per second of each partition, table and index alike (default 3,000). */
  readUnitsPerSecond?: number;
  /** The clock, in ms (default Date.now); tests inject their own. */
  now?: () => number;
}

interface UnitCount {
  readUnits: number;
  writeUnits: number;
}

export interface Consumed extends UnitCount {
  table: UnitCount;
  /** Per index name. */
  indexes: Record<string, UnitCount>;
  /** Calls the model refused whole: ProvisionedThroughputExceededException or a throttled transaction. */
  throttledCalls: number;
  /** BatchWriteItem items not admitted (returned unprocessed, or refused with their whole call). */
  unprocessedItems: number;
  /** BatchGetItem keys not admitted. */
  unprocessedKeys: number;
}

interface Bucket {
  tokens: number;
  at: number;
  capacity: number;
}

/** The bucket a charge is taken from: its table, index (if any) and partition key value. */
export const bucketKey = (charge: Omit<Charge, "units">) =>
  `${charge.table}\u0000${charge.index ?? ""}\u0000${charge.partition}`;

export class CapacityModel {
  readonly writeUnitsPerSecond: number;
  readonly readUnitsPerSecond: number;
  private readonly now: () => number;
  private readonly writeBuckets = new Map<string, Bucket>();
  private readonly readBuckets = new Map<string, Bucket>();
  private counts: Consumed = CapacityModel.empty();

  constructor(options: CapacityOptions = {}) {
    this.writeUnitsPerSecond = options.writeUnitsPerSecond ?? 1000;
    this.readUnitsPerSecond = options.readUnitsPerSecond ?? 3000;
    this.now = options.now ?? Date.now;
  }

  private static empty(): Consumed {
    return {
      readUnits: 0,
      writeUnits: 0,
      table: { readUnits: 0, writeUnits: 0 },
      indexes: {},
      throttledCalls: 0,
      unprocessedItems: 0,
      unprocessedKeys: 0,
    };
  }

  private bucket(kind: "read" | "write", charge: Omit<Charge, "units">): Bucket {
    const buckets = kind === "read" ? this.readBuckets : this.writeBuckets;
    const rate = kind === "read" ? this.readUnitsPerSecond : this.writeUnitsPerSecond;
    const key = bucketKey(charge);
    const now = this.now();
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = { tokens: rate, at: now, capacity: rate }));
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (rate * Math.max(0, now - bucket.at)) / 1000);
    bucket.at = now;
    return bucket;
  }

  private count(kind: "read" | "write", charge: Charge) {
    const field = kind === "read" ? "readUnits" : "writeUnits";
    this.counts[field] += charge.units;
    const target = charge.index
      ? (this.counts.indexes[charge.index] ??= { readUnits: 0, writeUnits: 0 })
      : this.counts.table;
    target[field] += charge.units;
  }

  /** Units in a bucket now (after refill); negative while in debt. */
  tokens(kind: "read" | "write", where: Omit<Charge, "units">): number {
    return this.bucket(kind, where).tokens;
  }

  /** The charges whose bucket lacks their units (summed per bucket) and is not full: those a write would be refused for. */
  lacking(charges: Charge[]): Charge[] {
    const needed = new Map<string, number>();
    for (const charge of charges) needed.set(bucketKey(charge), (needed.get(bucketKey(charge)) ?? 0) + charge.units);
    return charges.filter((charge) => {
      const bucket = this.bucket("write", charge);
      return bucket.tokens < needed.get(bucketKey(charge))! && bucket.tokens < bucket.capacity;
    });
  }

  /**
   * Takes write charges all or nothing. Returns the charges whose bucket lacked units (nothing was
   * taken then), or [] when all were taken.
   */
  takeWrites(charges: Charge[]): Charge[] {
    const short = this.lacking(charges);
    if (short.length > 0) return short;
    for (const charge of charges) {
      this.bucket("write", charge).tokens -= charge.units;
      this.count("write", charge);
    }
    return [];
  }

  /** Replaces charges taken by takeWrites with the actual cost (refunds or takes the difference, debt allowed). */
  settleWrites(taken: Charge[], actual: Charge[]) {
    for (const charge of taken) this.adjust("write", { ...charge, units: -charge.units });
    for (const charge of actual) this.adjust("write", charge);
  }

  /** Admits a read when its bucket is above zero, reserving `reserve` units; false when throttled. */
  admitRead(where: Omit<Charge, "units">, reserve: number): boolean {
    const bucket = this.bucket("read", where);
    if (bucket.tokens <= 0) return false;
    bucket.tokens -= reserve;
    return true;
  }

  /** Replaces a read's reservation with its actual cost (counted as consumed). */
  settleRead(where: Omit<Charge, "units">, reserved: number, actual: number) {
    const bucket = this.bucket("read", where);
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + reserved - actual);
    this.count("read", { ...where, units: actual });
  }

  /** Counts a read that is never throttled (Scan, TransactGetItems). */
  countRead(charge: Charge) {
    this.count("read", charge);
  }

  private adjust(kind: "read" | "write", charge: Charge) {
    const bucket = this.bucket(kind, charge);
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens - charge.units);
    this.count(kind, charge);
  }

  noteThrottled() {
    this.counts.throttledCalls++;
  }
  noteUnprocessedItems(count: number) {
    this.counts.unprocessedItems += count;
  }
  noteUnprocessedKeys(count: number) {
    this.counts.unprocessedKeys += count;
  }

  /** Units consumed and refusals since the start or the last reset. */
  consumed(): Consumed {
    return structuredClone(this.counts);
  }

  /** Zeroes the counters and fills every bucket again (a fresh account). */
  reset() {
    this.counts = CapacityModel.empty();
    this.writeBuckets.clear();
    this.readBuckets.clear();
  }
}
