import { describe, expect, it } from "vitest";
import { TABLE } from "../../lib/store/table.ts";
import {
  appTableSchema,
  attributeValueSize,
  CapacityModel,
  type Item,
  itemSize,
  itemWriteCharges,
  numberSize,
  pageReadUnits,
  queryPartition,
  readUnitsFor,
  updateEstimate,
  writeUnitsFor,
} from "../support/capacity-model/index.ts";

const schema = appTableSchema();
const INDEX = TABLE.orderIndex.indexName;

/** An item of exactly `bytes` bytes: a one-letter attribute holding a string. */
const sized = (bytes: number): Item => ({ p: { S: "x".repeat(bytes - 1) } });

describe("item size (DynamoDB's sizing rules)", () => {
  it("strings count UTF-8 bytes of name and value", () => {
    expect(itemSize({ name: { S: "Alice" } })).toBe(9);
    expect(itemSize({ é: { S: "ü€" } })).toBe(2 + 2 + 3);
  });

  it("numbers count about one byte per two significant digits, plus one", () => {
    expect(numberSize("123")).toBe(3);
    expect(numberSize("12345.6700")).toBe(5); // 1234567: 7 significant digits
    expect(numberSize("0.0012")).toBe(2);
    expect(numberSize("-1E+10")).toBe(2);
    expect(numberSize("0")).toBe(1);
    expect(itemSize({ order_id: { N: "1234" } })).toBe(8 + 3);
  });

  it("binary counts raw bytes, booleans and null one byte", () => {
    expect(attributeValueSize({ B: Buffer.alloc(10).toString("base64") })).toBe(10);
    expect(attributeValueSize({ BOOL: true })).toBe(1);
    expect(attributeValueSize({ NULL: true })).toBe(1);
  });

  it("lists and maps cost 3 bytes plus one per element; sets the sum of their elements", () => {
    expect(attributeValueSize({ L: [{ S: "ab" }, { N: "1" }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(attributeValueSize({ M: { a: { S: "xy" } } })).toBe(3 + 1 + 1 + 2);
    expect(itemSize({ m: { M: {} } })).toBe(1 + 3); // "an empty List or Map is (name) + 3 bytes"
    expect(attributeValueSize({ SS: ["ab", "c"] })).toBe(3);
    expect(attributeValueSize({ NS: ["12", "1"] })).toBe(2 + 2);
  });

  it("units follow the guide's worked examples", () => {
    // Reads: "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item".
    expect(readUnitsFor(itemSize(sized(3500)), true)).toBe(1);
    // "if your item size is 8 KB, you require 2 read units [strong], 1 eventually consistent".
    expect(readUnitsFor(8 * 1024, true)).toBe(2);
    expect(readUnitsFor(8 * 1024, false)).toBe(1);
    // GetItem "reading a 10 KB item rounds to 12 KB".
    expect(readUnitsFor(10 * 1024, true)).toBe(3);
    // BatchGetItem of 1.5 KB and 6.5 KB items is 12 KB (4 + 8), not 8 KB.
    expect(readUnitsFor(1.5 * 1024, true) + readUnitsFor(6.5 * 1024, true)).toBe(3);
    // Writes round up to 1 KB: 500 bytes = 1 WCU, 3.5 KB = 4 WCU.
    expect(writeUnitsFor(500)).toBe(1);
    expect(writeUnitsFor(3.5 * 1024)).toBe(4);
    // Eventual reads are half, 0.5 at the least.
    expect(readUnitsFor(100, false)).toBe(0.5);
  });
});

describe("write and read units", () => {
  const image = (extra: Item = {}): Item => ({
    task_id: { S: "t" },
    img_id: { S: "img1" },
    img_name: { S: "a.jpg" },
    state: { N: "0" },
    order_id: { N: "1" },
    order_block: { S: "t#0" },
    ...extra,
  });
  const units = (charges: { index?: string; units: number }[], index?: string) =>
    charges.filter((c) => c.index === index).reduce((sum, c) => sum + c.units, 0);

  it("a new item with the index key costs one table write and one index write in its index partition", () => {
    const charges = itemWriteCharges("T", schema, undefined, image());
    expect(charges).toEqual([
      { table: "T", partition: "t", units: 1 },
      { table: "T", index: INDEX, partition: "t#0", units: 1 },
    ]);
  });

  it("the table write is the larger of before and after, per started KB", () => {
    const before = image({ note: { S: "x".repeat(1500) } });
    expect(units(itemWriteCharges("T", schema, before, image()))).toBe(2);
    expect(units(itemWriteCharges("T", schema, undefined, undefined))).toBe(1); // deleting nothing
  });

  it("transactions cost twice in the table (index maintenance once)", () => {
    const charges = itemWriteCharges("T", schema, undefined, image(), { transactional: true });
    expect(units(charges)).toBe(2);
    expect(units(charges, INDEX)).toBe(1);
  });

  it("an index key that changes costs 2 index writes: delete in the old partition, put in the new", () => {
    const charges = itemWriteCharges("T", schema, image(), image({ order_block: { S: "t#1" } }));
    expect(charges.filter((c) => c.index)).toEqual([
      { table: "T", index: INDEX, partition: "t#0", units: 1 },
      { table: "T", index: INDEX, partition: "t#1", units: 1 },
    ]);
  });

  it("a projected attribute changed = 1 index write, a non-projected one = 0, the key removed = 1", () => {
    expect(units(itemWriteCharges("T", schema, image(), image({ state: { N: "2" } })), INDEX)).toBe(1);
    expect(units(itemWriteCharges("T", schema, image(), image({ expires_at: { N: "9" } })), INDEX)).toBe(0);
    const { order_block: _gone, ...unindexed } = image();
    expect(units(itemWriteCharges("T", schema, image(), unindexed), INDEX)).toBe(1);
    expect(units(itemWriteCharges("T", schema, unindexed, unindexed), INDEX)).toBe(0);
  });

  it("an index write is sized by the projected entry, not the whole item", () => {
    const big = image({ blob: { S: "x".repeat(5000) } }); // not projected
    const charges = itemWriteCharges("T", schema, undefined, big);
    expect(units(charges)).toBe(5);
    expect(units(charges, INDEX)).toBe(1);
  });

  it("an UpdateItem is estimated from its before-image and the attributes it names", () => {
    const rename = { UpdateExpression: "SET #n = :n", ExpressionAttributeNames: { "#n": "img_name" } };
    expect(units(updateEstimate("T", schema, image(), rename), INDEX)).toBe(1);
    expect(units(updateEstimate("T", schema, image(), { UpdateExpression: "SET expires_at = :e" }), INDEX)).toBe(0);
  });

  it("a Query is charged on the summed size of its page, rounded up once", () => {
    const page = Array.from({ length: 10 }, () => sized(1000));
    expect(pageReadUnits(page, true)).toBe(3); // 10,000 bytes, not 10 × 1 unit
    expect(pageReadUnits(page, false)).toBe(1.5);
    expect(pageReadUnits([], true)).toBe(1);
  });

  it("finds the partition a key condition fixes", () => {
    const query = {
      KeyConditionExpression: "#b = :b AND order_id BETWEEN :lo AND :hi",
      ExpressionAttributeNames: { "#b": "order_block" },
      ExpressionAttributeValues: { ":b": { S: "t#3" }, ":lo": { N: "1" }, ":hi": { N: "9" } },
    };
    expect(queryPartition(query, "order_block")).toBe("t#3");
    expect(queryPartition({ ...query, KeyConditionExpression: ":b = #b" }, "order_block")).toBe("t#3");
  });
});

describe("token buckets (injected clock)", () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };
  const at = { table: "T", partition: "p" };

  it("start full with one second of capacity, refill continuously, and hold no more than a second", () => {
    const time = clock();
    const model = new CapacityModel({ now: time.now });
    expect(model.takeWrites([{ ...at, units: 1000 }])).toEqual([]);
    expect(model.takeWrites([{ ...at, units: 1 }])).toHaveLength(1);
    time.advance(1);
    expect(model.takeWrites([{ ...at, units: 1 }])).toEqual([]);
    expect(model.takeWrites([{ ...at, units: 1 }])).toHaveLength(1);
    time.advance(10_000);
    expect(model.tokens("write", at)).toBe(1000);
    expect(model.consumed().writeUnits).toBe(1001);
  });

  it("keeps one bucket per partition key value, table and index apart", () => {
    const model = new CapacityModel({ now: () => 0 });
    expect(model.takeWrites([{ ...at, units: 1000 }])).toEqual([]);
    expect(model.takeWrites([{ table: "T", partition: "q", units: 1000 }])).toEqual([]);
    expect(model.takeWrites([{ ...at, index: INDEX, units: 1000 }])).toEqual([]);
    expect(model.consumed()).toMatchObject({
      writeUnits: 3000,
      table: { writeUnits: 2000 },
      indexes: { [INDEX]: { writeUnits: 1000 } },
    });
  });

  it("takes a call's writes all or nothing, summed per bucket", () => {
    const model = new CapacityModel({ now: () => 0, writeUnitsPerSecond: 10 });
    model.takeWrites([{ ...at, units: 4 }]);
    const short = model.takeWrites([
      { table: "T", partition: "other", units: 1 },
      { ...at, units: 4 },
      { ...at, units: 4 },
    ]);
    expect(short.map((c) => c.partition)).toEqual(["p", "p"]);
    expect(model.tokens("write", { table: "T", partition: "other" })).toBe(10);
    expect(model.tokens("write", at)).toBe(6);
  });

  it("admits a cost above a bucket's capacity only when it is full, leaving it in debt", () => {
    const time = clock();
    const model = new CapacityModel({ now: time.now, writeUnitsPerSecond: 10 });
    expect(model.takeWrites([{ ...at, units: 15 }])).toEqual([]);
    expect(model.tokens("write", at)).toBe(-5);
    time.advance(1000);
    expect(model.takeWrites([{ ...at, units: 6 }])).toHaveLength(1);
  });

  it("admits reads while the bucket is above zero, reserving the most a page costs, then settles", () => {
    const model = new CapacityModel({ now: () => 0 });
    const admitted = Array.from({ length: 20 }, () => model.admitRead(at, 256)).filter(Boolean).length;
    expect(admitted).toBe(12); // 3000 / 256 = 11.7: the 12th finds 184 left
    for (let i = 0; i < admitted; i++) model.settleRead(at, 256, 1);
    expect(model.tokens("read", at)).toBe(3000 - 12);
    expect(model.consumed().readUnits).toBe(12);
  });

  it("settles an estimated write to its actual cost, into debt when it cost more", () => {
    const model = new CapacityModel({ now: () => 0, writeUnitsPerSecond: 10 });
    const estimate = [{ ...at, units: 8 }];
    model.takeWrites(estimate);
    model.settleWrites(estimate, [{ ...at, units: 12 }]);
    expect(model.tokens("write", at)).toBe(-2);
    expect(model.consumed().writeUnits).toBe(12);
    model.reset();
    expect(model.tokens("write", at)).toBe(10);
    expect(model.consumed().writeUnits).toBe(0);
  });
});
