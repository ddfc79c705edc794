import { randomUUID } from "node:crypto";
import { DeleteCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig, readIdempotencySettings } from "../../../lib/config.ts";
import { callerOf, normalizeKey } from "../../../lib/http/idempotency.ts";
import { documentClient } from "../../../lib/store/client.ts";
import { expectContract, startApi } from "../../support/http.ts";
import { imageId, localClient, seedImages } from "../../support/store.ts";

let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api.close());

const SETS = "/training/tasks/sets";
const IMAGES = "/training/tasks/images";
const db = documentClient(localClient());

interface Answer {
  status: number;
  replayed: string | null;
  text: string;
  body: Record<string, unknown>;
}

/** One request over HTTP, with the Idempotency-Key when given; every answer must match the contract. */
async function send(method: string, path: string, body: unknown, key?: string, signal?: AbortSignal): Promise<Answer> {
  const response = await fetch(`${api.base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(key === undefined ? {} : { "Idempotency-Key": key }) },
    body: JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  expectContract(method, path, response, text);
  return {
    status: response.status,
    replayed: response.headers.get("idempotent-replayed"),
    text,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

const splitBody = (taskId: string, training: number, verifying = 0, testing = 0) => ({
  task_id: taskId,
  training_count: training,
  verifying_count: verifying,
  testing_count: testing,
});
const images = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => ({ img_id: `${prefix}${i}`, img_name: `${prefix}_${i}.jpg` }));
const summary = async (taskId: string) => (await api.call("GET", `${SETS}?task_id=${taskId}`)).body;
const registerSome = async (taskId: string, count: number) => {
  const answer = await send("POST", IMAGES, { task_id: taskId, images: images(count, "im") });
  expect(answer.status).toBe(200);
};

/** The idempotency records whose kept answer names `taskId`. */
async function recordsOf(taskId: string): Promise<Record<string, unknown>[]> {
  const out = await db.send(new ScanCommand({ TableName: readIdempotencySettings().tableName }));
  return (out.Items ?? []).filter((item) => JSON.stringify(item.data ?? "").includes(taskId));
}

describe("Idempotency-Key on PUT /training/tasks/sets", () => {
  it("no header: two requests are two splits", async () => {
    // Arrange
    await registerSome("idem_none", 20);

    // Act
    const first = await send("PUT", SETS, splitBody("idem_none", 5, 5, 5));
    const second = await send("PUT", SETS, splitBody("idem_none", 5, 5, 5));

    // Assert
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.body.version, second.body.version]).toEqual([1, 2]);
    expect(first.body.seed).not.toBe(second.body.seed);
    expect([first.replayed, second.replayed]).toEqual([null, null]);
  });

  it("the same key and body: the first answer again, replayed, and no second split", async () => {
    // Arrange
    await registerSome("idem_same", 20);
    const key = randomUUID();

    // Act
    const first = await send("PUT", SETS, splitBody("idem_same", 10, 5, 5), key);
    const again = await send("PUT", SETS, splitBody("idem_same", 10, 5, 5), key);
    const quoted = await send(
      "PUT",
      SETS,
      { testing_count: 5, verifying_count: 5, training_count: 10, task_id: "idem_same" },
      `"${key}"`,
    );

    // Assert
    expect(first).toMatchObject({ status: 200, replayed: null });
    expect(again).toMatchObject({ status: 200, replayed: "true", text: first.text });
    expect(quoted).toMatchObject({ status: 200, replayed: "true", text: first.text });
    expect(await summary("idem_same")).toMatchObject({ split: { version: 1, seed: first.body.seed } });
  });

  it("the same key with another body is 1024; a malformed key too", async () => {
    // Arrange
    await registerSome("idem_other", 20);
    const key = randomUUID();
    await send("PUT", SETS, splitBody("idem_other", 10), key);

    // Act
    const other = await send("PUT", SETS, splitBody("idem_other", 11), key);
    const malformed = await send("PUT", SETS, splitBody("idem_other", 11), "has space");
    const tooLong = await send("PUT", SETS, splitBody("idem_other", 11), "k".repeat(256));

    // Assert
    expect(other).toMatchObject({ status: 422, body: { code: 1024, msg: "Idempotency-Key 已用于另一个请求" } });
    expect(malformed).toMatchObject({ status: 422, body: { code: 1024 } });
    expect(tooLong.body.code).toBe(1024);
    expect(await summary("idem_other")).toMatchObject({ split: { version: 1 } });
  });

  it("concurrent retries of one key: exactly one split; the others get its answer or 1025", async () => {
    // Arrange
    await seedImages(readConfig(), "idem_race", 5_000);
    const key = randomUUID();

    // Act
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => send("PUT", SETS, splitBody("idem_race", 3_000, 1_000, 1_000), key)),
    );
    const afterwards = await send("PUT", SETS, splitBody("idem_race", 3_000, 1_000, 1_000), key);

    // Assert
    const ok = answers.filter((answer) => answer.status === 200);
    const running = answers.filter((answer) => answer.status === 409);
    expect(ok.length + running.length).toBe(6);
    expect(ok.filter((answer) => answer.replayed === null)).toHaveLength(1);
    for (const answer of ok) expect(answer.text).toBe(ok[0]!.text);
    for (const answer of running) expect(answer.body).toMatchObject({ code: 1025 });
    expect(afterwards).toMatchObject({ status: 200, replayed: "true", text: ok[0]!.text });
    const task = await summary("idem_race");
    expect(task).toMatchObject({ split: { version: 1 } });
    expect(task.history).toHaveLength(1);
  });

  it("a retry after a lost answer (the split ran, the caller never heard) replays it", async () => {
    // Arrange
    await seedImages(readConfig(), "idem_lost", 3_000);
    const key = randomUUID();
    const body = splitBody("idem_lost", 2_000, 500, 500);
    const table = readIdempotencySettings().tableName;
    // (the table is made on the first keyed request: none yet is no record yet)
    const recordIds = async () =>
      new Set(
        ((await db.send(new ScanCommand({ TableName: table })).catch(() => ({ Items: [] }))).Items ?? []).map(
          (item) => item.id as string,
        ),
      );
    const before = await recordIds();
    const caller = new AbortController();
    const lost = send("PUT", SETS, body, key, caller.signal).catch((error: unknown) => error);
    // The caller gives up once the server holds the key (before it has read the task's images).
    while ([...(await recordIds())].every((id) => before.has(id))) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    caller.abort();

    // Act: the caller gave up; the split goes on. Retry (as the client does on 1025) until answered.
    expect(await lost).toBeInstanceOf(Error);
    let retry: Answer;
    for (;;) {
      retry = await send("PUT", SETS, body, key);
      if (retry.status !== 409) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Assert
    const task = await summary("idem_lost");
    expect(task).toMatchObject({ split: { version: 1 } });
    expect(retry).toMatchObject({
      status: 200,
      replayed: "true",
      body: { version: 1, seed: (task.split as { seed: string }).seed },
    });
  });

  it("an error answer is not kept: the same key runs again once the task can be split", async () => {
    // Arrange
    const key = randomUUID();
    const body = splitBody("idem_error", 2);
    const refused = await send("PUT", SETS, body, key);
    await registerSome("idem_error", 3);

    // Act
    const retry = await send("PUT", SETS, body, key);

    // Assert
    expect(refused).toMatchObject({ status: 404, body: { code: 1003 } });
    expect(retry).toMatchObject({ status: 200, replayed: null, body: { version: 1 } });
  });

  it("a 12,000-image split is kept small and replayed identical, rebuilt from its version", async () => {
    // Arrange
    await seedImages(readConfig(), "idem_big_12k", 12_000);
    const key = randomUUID();
    const body = splitBody("idem_big_12k", 8_000, 2_000, 1_000);
    const first = await send("PUT", SETS, body, key);

    // Act
    const replay = await send("PUT", SETS, body, key);

    // Assert
    expect(first.status).toBe(200);
    expect(first.text.length).toBeGreaterThan(readIdempotencySettings().keepBytes);
    expect(replay).toMatchObject({ status: 200, replayed: "true" });
    expect(replay.text).toBe(first.text);
    const [record] = await recordsOf("idem_big_12k");
    expect(JSON.stringify(record).length).toBeLessThan(2_000);
    expect(record?.data).toMatchObject({ rebuild: { task_id: "idem_big_12k", version: 1 } });
    expect((await summary("idem_big_12k")).history).toHaveLength(1);
  });

  it("a big answer that can no longer be rebuilt exactly is replayed without its lists: same seed and version", async () => {
    // Arrange
    await seedImages(readConfig(), "idem_big_gone", 12_000);
    const key = randomUUID();
    const body = splitBody("idem_big_gone", 9_000, 1_000, 1_000);
    const first = await send("PUT", SETS, body, key);
    // An image the split planned over is gone (as a later DELETE will do).
    await db.send(
      new DeleteCommand({
        TableName: readConfig().tableName,
        Key: { task_id: "idem_big_gone", img_id: imageId("idem_big_gone", 7) },
      }),
    );

    // Act
    const replay = await send("PUT", SETS, body, key);

    // Assert
    expect(replay).toMatchObject({
      status: 200,
      replayed: "true",
      body: {
        ids_omitted: true,
        set_sizes: { training: 9_000, verifying: 1_000, testing: 1_000 },
        seed: first.body.seed,
        version: 1,
        unassigned_count: 1_000,
      },
    });
  });
});

describe("Idempotency-Key on POST /training/tasks/images", () => {
  it("a replayed registration answers the first counts and registers nothing again", async () => {
    // Arrange
    const key = randomUUID();
    const body = { task_id: "idem_post", images: images(5, "p") };

    // Act
    const first = await send("POST", IMAGES, body, key);
    const again = await send("POST", IMAGES, body, key);
    const plain = await send("POST", IMAGES, body);

    // Assert
    expect(first).toMatchObject({ status: 200, replayed: null, body: { added: 5, total: 5 } });
    expect(again).toMatchObject({ status: 200, replayed: "true", text: first.text });
    expect(plain.body).toMatchObject({ added: 0, unchanged: 5, total: 5 });
  });

  it("one key on the two routes is two keys", async () => {
    // Arrange
    const key = randomUUID();
    const registered = await send("POST", IMAGES, { task_id: "idem_routes", images: images(3, "r") }, key);

    // Act
    const split = await send("PUT", SETS, splitBody("idem_routes", 1), key);

    // Assert
    expect(registered.status).toBe(200);
    expect(split).toMatchObject({ status: 200, replayed: null, body: { version: 1 } });
  });
});

describe("the key and its scope", () => {
  it("normalizes a quoted key and refuses what is not 1–255 visible ASCII characters", () => {
    expect(normalizeKey('"abc"')).toBe("abc");
    expect(normalizeKey("abc")).toBe("abc");
    expect(normalizeKey("k".repeat(255))).toBe("k".repeat(255));
    for (const bad of ["", '""', "a b", "k".repeat(256), "ключ", "a\tb"])
      expect(normalizeKey(bad), bad).toBeUndefined();
  });

  it("scopes by the IAM principal, else the Cognito sub, else one local scope", () => {
    const event = (requestContext: unknown) => ({ requestContext }) as Parameters<typeof callerOf>[0];
    expect(callerOf(event({ identity: { userArn: "arn:aws:iam::1:user/a", caller: "AIDA" } }))).toBe(
      "arn:aws:iam::1:user/a",
    );
    expect(callerOf(event({ identity: { caller: "AROA:session" } }))).toBe("AROA:session");
    expect(callerOf(event({ identity: {}, authorizer: { claims: { sub: "u-1" } } }))).toBe("u-1");
    expect(callerOf(event({ identity: { sourceIp: "127.0.0.1" } }))).toBe("-");
  });
});
