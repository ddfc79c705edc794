import { Agent, request as forward, type IncomingMessage } from "node:http";
import { type Item, type Json, keyOf, schemaFromDescription, type TableSchema } from "../capacity-model/index.ts";

export interface UpstreamAnswer {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/**
 * DynamoDB Local behind the proxy: the calls it forwards, and the proxy's own calls (table schemas,
 * before- and after-images), sent with the headers of the caller's request. DynamoDB Local does not
 * check signatures, so the proxy may reshape a request or make its own.
 */
export interface Upstream {
  /** Sends `body` on as `request` (or as `operation` when given) and returns the answer. */
  send(request: IncomingMessage, body: Buffer, operation?: string): Promise<UpstreamAnswer>;
  /** A table's key schema and indexes (cached; undefined when it has no such table). */
  schemaOf(request: IncomingMessage, table: string): Promise<TableSchema | undefined>;
  /** Drops a cached schema (the table was created, deleted or changed). */
  forgetSchema(table: string): void;
  /** Items as DynamoDB holds them now (strongly consistent), by table key. */
  readItems(request: IncomingMessage, table: string, schema: TableSchema, keys: Item[]): Promise<Map<string, Item>>;
  close(): void;
}

export function connectUpstream(target: string): Upstream {
  const url = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const schemas = new Map<string, Promise<TableSchema | undefined>>();

  const send = (request: IncomingMessage, body: Buffer, operation?: string) =>
    new Promise<UpstreamAnswer>((resolve, reject) => {
      const headers = { ...request.headers, host: url.host, "content-length": String(body.length) };
      if (operation) Object.assign(headers, { "x-amz-target": `DynamoDB_20120810.${operation}` });
      const outgoing = forward(
        { host: url.hostname, port: url.port, method: request.method, path: request.url, headers, agent },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (part: Buffer) => parts.push(part));
          answer.on("end", () =>
            resolve({ status: answer.statusCode ?? 500, headers: answer.headers, body: Buffer.concat(parts) }),
          );
          answer.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  const ownCall = async (request: IncomingMessage, operation: string, input: Json): Promise<Json> => {
    const answer = await send(request, Buffer.from(JSON.stringify(input)), operation);
    return JSON.parse(answer.body.toString("utf8") || "{}") as Json;
  };

  const schemaOf = (request: IncomingMessage, table: string): Promise<TableSchema | undefined> => {
    let schema = schemas.get(table);
    if (!schema) {
      schema = ownCall(request, "DescribeTable", { TableName: table }).then((out) =>
        out.Table ? schemaFromDescription(out.Table) : undefined,
      );
      schemas.set(table, schema);
      schema.then(
        (found) => found ?? schemas.delete(table),
        () => schemas.delete(table),
      );
    }
    return schema;
  };

  const readItems = async (request: IncomingMessage, table: string, schema: TableSchema, keys: Item[]) => {
    const items = new Map<string, Item>();
    const unique = [...new Map(keys.map((key) => [keyOf(schema, key), key])).values()];
    for (let start = 0; start < unique.length; start += 100) {
      let pending: Json | undefined = {
        [table]: { Keys: unique.slice(start, start + 100), ConsistentRead: true },
      };
      while (pending && Object.keys(pending).length > 0) {
        const out = await ownCall(request, "BatchGetItem", { RequestItems: pending });
        if (out.__type) throw new Error(`proxy read: ${out.__type}`);
        for (const item of (out.Responses?.[table] ?? []) as Item[]) items.set(keyOf(schema, item), item);
        pending = out.UnprocessedKeys;
      }
    }
    return items;
  };

  return {
    send,
    schemaOf,
    forgetSchema: (table) => schemas.delete(table),
    readItems,
    close: () => agent.destroy(),
  };
}
