/**
 * DynamoDB's per-partition capacity, as a pure model that the fault proxy (test/support/fault-proxy/)
 * applies to the calls it forwards to DynamoDB Local, which never throttles. Numbers from the
 * DynamoDB developer guide ("Read/write capacity", "Transactions", "GSI", "Burst and adaptive
 * capacity"). Each rule is written beside the code that keeps it:
 * - schema.ts: table and index key schemas, item keys, an item's entry in an index;
 * - sizes.ts: item sizes and the read and write units of a size;
 * - charges.ts: what a write costs in each table and index partition, and its estimate before it runs;
 * - buckets.ts: the token bucket of each partition, admission, debt, and the counters tests read.
 */

export { bucketKey, CapacityModel, type CapacityOptions } from "./buckets.ts";
export { type Charge, itemWriteCharges, updateEstimate } from "./charges.ts";
export {
  appTableSchema,
  type IndexSchema,
  type Item,
  indexEntry,
  type Json,
  keyOf,
  queryPartition,
  scalar,
  schemaFromDescription,
  type TableSchema,
} from "./schema.ts";
export {
  attributeValueSize,
  itemSize,
  KB,
  numberSize,
  PAGE_BYTES,
  pageReadUnits,
  readUnitsFor,
  writeUnitsFor,
} from "./sizes.ts";
