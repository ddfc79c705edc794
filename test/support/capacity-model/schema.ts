import { TABLE } from "../../../lib/store/table.ts";

/** DynamoDB wire JSON, read loosely. */
export type Json = Record<string, any>;
/** One attribute value in wire form, e.g. { S: "x" }. */
export type AttributeValue = Json;
export type Item = Record<string, AttributeValue>;

export interface IndexSchema {
  name: string;
  partitionKey: string;
  sortKey?: string;
  /** "ALL", "KEYS_ONLY", or the INCLUDE list of non-key attributes. */
  projection: "ALL" | "KEYS_ONLY" | readonly string[];
}

export interface TableSchema {
  partitionKey: string;
  sortKey?: string;
  indexes: IndexSchema[];
}

/** The project's table layout (lib/store/table.ts), for unit tests; the proxy reads each table's own with DescribeTable. */
export const appTableSchema = (): TableSchema => ({
  partitionKey: TABLE.partitionKey,
  sortKey: TABLE.sortKey,
  indexes: [
    {
      name: TABLE.orderIndex.indexName,
      partitionKey: TABLE.orderIndex.partitionKey,
      sortKey: TABLE.orderIndex.sortKey,
      projection: TABLE.projectedAttributes,
    },
  ],
});

/** A TableSchema from a DescribeTable answer's `Table`. */
export function schemaFromDescription(table: Json): TableSchema {
  const keys = (schema: Json[] | undefined) => ({
    hash: schema?.find((k) => k.KeyType === "HASH")?.AttributeName as string,
    range: schema?.find((k) => k.KeyType === "RANGE")?.AttributeName as string | undefined,
  });
  const own = keys(table.KeySchema);
  return {
    partitionKey: own.hash,
    ...(own.range ? { sortKey: own.range } : {}),
    indexes: ((table.GlobalSecondaryIndexes ?? []) as Json[]).map((index) => {
      const k = keys(index.KeySchema);
      const type = index.Projection?.ProjectionType ?? "ALL";
      return {
        name: String(index.IndexName),
        partitionKey: k.hash,
        ...(k.range ? { sortKey: k.range } : {}),
        projection: type === "INCLUDE" ? ((index.Projection?.NonKeyAttributes ?? []) as string[]) : type,
      };
    }),
  };
}

/** A scalar key value as text (S, N or B). */
export const scalar = (value: AttributeValue | undefined): string | undefined =>
  value === undefined ? undefined : String(value.S ?? value.N ?? value.B);

/** The table key of an item, as text (to match items with keys). */
export const keyOf = (schema: TableSchema, item: Item): string =>
  `${scalar(item[schema.partitionKey]) ?? ""}\u0000${schema.sortKey ? (scalar(item[schema.sortKey]) ?? "") : ""}`;

export interface IndexEntry {
  partition: string;
  /** Index partition and sort key values, as text. */
  key: string;
  /** The entry as the index holds it: table keys, index keys and projected attributes. */
  entry: Item;
}

/** An item's entry in one index, or undefined when it lacks one of the index key attributes (sparse index). */
export function indexEntry(schema: TableSchema, index: IndexSchema, item: Item | undefined): IndexEntry | undefined {
  if (!item) return undefined;
  const partition = scalar(item[index.partitionKey]);
  const sort = index.sortKey ? scalar(item[index.sortKey]) : "";
  if (partition === undefined || sort === undefined) return undefined;
  let entry: Item;
  if (index.projection === "ALL") entry = item;
  else {
    const names = new Set([schema.partitionKey, schema.sortKey, index.partitionKey, index.sortKey]);
    if (index.projection !== "KEYS_ONLY") for (const name of index.projection) names.add(name);
    entry = Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name)));
  }
  return { partition, key: `${partition}\u0000${sort}`, entry };
}

/** The partition key value a Query's key condition fixes, or undefined. */
export function queryPartition(input: Json, partitionKey: string): string | undefined {
  const aliases = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Item;
  const expression = String(input.KeyConditionExpression ?? "");
  const name = (token: string) => (token.startsWith("#") ? aliases[token] : token);
  for (const match of expression.matchAll(/(#?[\w]+)\s*=\s*(:[\w]+)|(:[\w]+)\s*=\s*(#?[\w]+)/g)) {
    const [attribute, value] = match[1] ? [match[1], match[2]!] : [match[4]!, match[3]!];
    if (name(attribute) === partitionKey) return scalar(values[value]);
  }
  const legacy = input.KeyConditions?.[partitionKey]?.AttributeValueList?.[0];
  return scalar(legacy);
}
