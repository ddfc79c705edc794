/**
 * Idempotent retries (README "Idempotency keys"): a PUT /training/tasks/sets or POST
 * /training/tasks/images that carries an `Idempotency-Key` header runs once per key, route and
 * caller within IDEMPOTENCY_EXPIRY_SECONDS; a retry gets the first answer again with
 * `Idempotent-Replayed: true`. Powertools Idempotency does the bookkeeping (its DynamoDB
 * persistence layer and its middy middleware, in a table of its own); this module decides what the
 * key is, maps Powertools' refusals to 1024 and 1025, keeps big split answers small, and adds the
 * replay header.
 *
 * Why a wrapper around `makeHandlerIdempotent` rather than the middleware as it is:
 * - the key is the normalized header plus the caller, never the whole event (which carries a
 *   request id and a time);
 * - its onError deletes the record even when its own `before` refused the request (a duplicate in
 *   progress, a body mismatch): a refused retry would unlock the running original, and the next
 *   retry would split again (powertools-lambda-typescript#5675, fixed after 2.35). Here only the
 *   request that acquired the record ever deletes it;
 * - a replay returns early from middy, so no `after` of the service (CORS) runs: it is added here.
 */

import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyInconsistentStateError,
  IdempotencyValidationError,
} from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { makeHandlerIdempotent } from "@aws-lambda-powertools/idempotency/middleware";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import type { MiddlewareObj, Request } from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { type IdempotencySettings, readCorsOrigins, readIdempotencySettings, type StoreConfig } from "./config.ts";
import { describeError, ServiceError, storageUnavailable } from "./errors.ts";
import { corsHeaders } from "./http.ts";
import { log } from "./log.ts";
import { SET_TYPES, type SetType, TESTING, TRAINING, VERIFYING } from "./model.ts";
import { permutation, readIds } from "./plan/draw.ts";
import { isLoopback, isThrottling } from "./store/client.ts";
import type { Store } from "./store/index.ts";

/** The request header (lower case: the header normalizer has run) and the replay header. */
export const IDEMPOTENCY_HEADER = "idempotency-key";
export const REPLAYED_HEADER = "Idempotent-Replayed";

/** Visible ASCII (0x21–0x7E), 1–255 of them. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * The key as the IETF httpapi draft sends it — a structured-field string, `"…"` — or bare: one
 * pair of surrounding double quotes is dropped, so `"abc"` and `abc` are the same key. Undefined
 * when what is left is not 1–255 visible ASCII characters.
 */
export function normalizeKey(raw: string): string | undefined {
  let value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  return KEY_PATTERN.test(value) ? value : undefined;
}

/**
 * Whose key it is: the IAM principal (`userArn`, else `caller`) or the Cognito user (`sub`). The
 * local server and an open stage (`auth none`) have none: one scope for everyone.
 */
export function callerOf(event: Pick<APIGatewayProxyEvent, "requestContext">): string {
  const context = event.requestContext as Partial<APIGatewayProxyEvent["requestContext"]> | undefined;
  const claims = (context?.authorizer as { claims?: { sub?: unknown } } | null | undefined)?.claims;
  const sub = typeof claims?.sub === "string" ? claims.sub : undefined;
  return context?.identity?.userArn || context?.identity?.caller || sub || "-";
}

/** What an idempotency record keeps of an answer (a JSON value in the record's `data`). */
export interface KeptAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /**
   * Set when `body` is a split answer kept without its id lists (it holds `ids_omitted` and
   * `set_sizes` instead): the lists are rebuilt from this split version on replay.
   */
  rebuild?: { task_id: string; version: number } | undefined;
}

/** How a route keeps an answer too big for a record, and gets it back. */
export interface BigAnswers {
  /** A smaller record of `answer` (its body is more than IDEMPOTENCY_KEEP_BYTES). */
  compact(answer: KeptAnswer): KeptAnswer;
  /** The answer body back from what `compact` kept. */
  expand(kept: KeptAnswer, deadline: number | undefined): Promise<string>;
}

export interface IdempotencyOptions {
  /** The route's name (lib/routes.ts): the key's prefix, so one key on two routes is two keys. */
  route: string;
  /** Region, endpoint and request timeout of the storage client. */
  storage: Pick<StoreConfig, "region" | "endpoint" | "requestTimeoutMs" | "answerMarginMs">;
  settings?: IdempotencySettings;
  /** For a route whose answers can pass IDEMPOTENCY_KEEP_BYTES. */
  bigAnswers?: BigAnswers;
  client?: DynamoDBClient;
}

/** What Powertools keys and validates on: the normalized key and the caller, and the parsed body. */
interface Payload {
  key: string;
  caller: string;
  body: unknown;
}

interface State {
  payload: Payload;
  /** This request holds the in-progress record: only it may delete it or save an answer in it. */
  acquired: boolean;
}

type Internal = Record<string, unknown>;
type HttpRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, Internal>;
/** makeHandlerIdempotent's three hooks, as this module calls them (with a view of the request). */
interface PowertoolsMiddleware {
  before(request: unknown): Promise<unknown>;
  after(request: unknown): Promise<void>;
  onError(request: unknown): Promise<void>;
}
const STATE = "training-sets.idempotency";

/**
 * The DynamoDB client of the idempotency table. Unlike the store's client (which retries against a
 * deadline itself), the SDK's standard retries apply: these are single small items.
 */
export function idempotencyClient(storage: IdempotencyOptions["storage"]): DynamoDBClient {
  return new DynamoDBClient({
    region: storage.region,
    endpoint: storage.endpoint,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: storage.requestTimeoutMs },
    ...(isLoopback(storage.endpoint) ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
}

/**
 * Creates the idempotency table when it is missing — partition key `id` (S), TTL on `expiration`,
 * as the stack makes it. True when it was created now.
 */
export async function ensureIdempotencyTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return false;
  } catch (error) {
    if ((error as { name?: string }).name !== "ResourceNotFoundException") throw error;
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    // Another process made it meanwhile.
    if ((error as { name?: string }).name === "ResourceInUseException") return false;
    throw error;
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: "expiration", Enabled: true },
    }),
  );
  return true;
}

/**
 * The middy middleware that makes a route idempotent per `Idempotency-Key`. `.use()` it after
 * httpService(): its `before` then sees the normalized headers and the parsed body, and its
 * onError runs before the service's error mapper. A request without the header passes untouched.
 */
export function idempotent(
  options: IdempotencyOptions,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, Internal> {
  const settings = options.settings ?? readIdempotencySettings();
  const client = options.client ?? idempotencyClient(options.storage);
  const powertools = makeHandlerIdempotent({
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: settings.tableName,
      keyAttr: "id",
      expiryAttr: "expiration",
      awsSdkV3Client: client,
    }),
    config: new IdempotencyConfig({
      eventKeyJmesPath: "[key, caller]",
      payloadValidationJmesPath: "body",
      expiresAfterSeconds: settings.expirySeconds,
      throwOnNoIdempotencyKey: true,
    }),
    keyPrefix: options.route,
  }) as unknown as PowertoolsMiddleware;
  // DynamoDB Local (npm start, tests) gets its table on first use; in AWS the stack made it.
  let localTable: Promise<unknown> | undefined;
  const ready = () => {
    if (!isLoopback(options.storage.endpoint)) return Promise.resolve();
    localTable ??= ensureIdempotencyTable(client, settings.tableName).catch((error: unknown) => {
      localTable = undefined;
      throw error;
    });
    return localTable;
  };
  // Powertools reads the event it keys on from request.event: give it the payload instead.
  const view = (request: HttpRequest, payload: Payload, response?: unknown) =>
    ({ ...request, event: payload, response }) as unknown;
  const stateOf = (request: HttpRequest) => request.internal[STATE] as State | undefined;
  const deadlineOf = (context: Context | undefined) => {
    const left = context?.getRemainingTimeInMillis?.();
    return typeof left === "number" && left > 0 ? Date.now() + left - options.storage.answerMarginMs : undefined;
  };

  return {
    before: async (request) => {
      const raw = request.event.headers?.[IDEMPOTENCY_HEADER];
      if (raw === undefined || raw === null) return undefined;
      const key = normalizeKey(raw);
      if (key === undefined) {
        throw new ServiceError(
          1024,
          {},
          {
            detail: `the Idempotency-Key header must be 1–255 visible ASCII characters, quoted or not; got ${JSON.stringify(raw.slice(0, 300))}`,
          },
        );
      }
      const payload: Payload = { key, caller: callerOf(request.event), body: request.event.body ?? null };
      const state: State = { payload, acquired: false };
      request.internal[STATE] = state;
      let kept: KeptAnswer | undefined;
      try {
        await ready();
        kept = (await powertools.before(view(request, payload))) as KeptAnswer | undefined;
      } catch (error) {
        throw refusal(error);
      }
      if (kept === undefined) {
        state.acquired = true;
        return undefined;
      }
      const body =
        kept.rebuild && options.bigAnswers
          ? await options.bigAnswers.expand(kept, deadlineOf(request.context))
          : kept.body;
      const origin = request.event.headers?.origin ?? undefined;
      return {
        statusCode: kept.statusCode,
        headers: { ...kept.headers, [REPLAYED_HEADER]: "true", ...corsHeaders(origin, readCorsOrigins()) },
        body,
      };
    },

    after: async (request) => {
      const state = stateOf(request);
      if (!state?.acquired) return;
      // From here the record is no longer ours to delete: a failure to save leaves it in progress,
      // and it lapses at the function's timeout.
      state.acquired = false;
      const response = request.response;
      if (response?.statusCode !== 200) {
        await powertools.onError(view(request, state.payload));
        return;
      }
      const answer: KeptAnswer = {
        statusCode: response.statusCode,
        headers: { ...(response.headers as Record<string, string> | undefined) },
        body: response.body,
      };
      const tooBig = Buffer.byteLength(answer.body) > settings.keepBytes;
      const kept = tooBig && options.bigAnswers ? options.bigAnswers.compact(answer) : answer;
      try {
        await powertools.after(view(request, state.payload, kept));
      } catch (error) {
        // The work is done and its answer is right: the caller gets it. A retry within the
        // function's timeout gets 1025; after it, the request runs again.
        log("error", "idempotency record not saved", { route: options.route, error: describeError(error) });
      }
    },

    onError: async (request) => {
      const state = stateOf(request);
      if (!state?.acquired) return;
      state.acquired = false;
      try {
        await powertools.onError(view(request, state.payload));
      } catch (error) {
        // The error being answered matters more; the record lapses at the function's timeout.
        log("error", "idempotency record not released", { route: options.route, error: describeError(error) });
      }
    },
  };
}

/** Powertools' refusals as the service's answers. */
function refusal(error: unknown): unknown {
  if (error instanceof ServiceError) return error;
  if (error instanceof IdempotencyValidationError) {
    return new ServiceError(
      1024,
      {},
      {
        detail: "this Idempotency-Key was first used with a different body: use a new key for a new request",
      },
    );
  }
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new ServiceError(
      1025,
      {},
      {
        detail: "the first request with this Idempotency-Key is still running: retry later to get its answer",
      },
    );
  }
  if (error instanceof IdempotencyInconsistentStateError) return storageUnavailable(error, true);
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  return storageUnavailable(error, isThrottling(cause));
}

/** Algorithms whose every set is drawn in the order of `permutation(ids, seed)` (lib/plan). */
const PERMUTATION_ORDERED = new Set(["v1"]);

const LISTS = ["img_ids_set_training", "img_ids_set_verifying", "img_ids_set_testing"] as const;

/**
 * Big split answers: kept as the answer without its id lists (`ids_omitted` and `set_sizes` in
 * their place, the shape a split too big for one answer has anyway) plus the split version, and
 * rebuilt on replay by `drawnOfVersion`. When the split can no longer be rebuilt exactly, the
 * replay is that kept answer: same seed, same version, the sets readable with GET.
 */
export function splitAnswers(store: Store): BigAnswers {
  return {
    compact(answer) {
      const body = JSON.parse(answer.body) as Record<string, unknown>;
      if (!Array.isArray(body.img_ids_set_training)) return answer;
      const { code, msg, task_id, img_ids_set_training, img_ids_set_verifying, img_ids_set_testing, ...rest } = body;
      const sizes = {
        training: (img_ids_set_training as unknown[]).length,
        verifying: (img_ids_set_verifying as unknown[]).length,
        testing: (img_ids_set_testing as unknown[]).length,
      };
      return {
        ...answer,
        body: JSON.stringify({ code, msg, task_id, ids_omitted: true, set_sizes: sizes, ...rest }),
        // A dry run wrote no snapshot: nothing to rebuild from.
        rebuild: rest.dry_run === true ? undefined : { task_id: String(task_id), version: Number(rest.version) },
      };
    },

    async expand(kept, deadline) {
      if (!kept.rebuild) return kept.body;
      const { task_id: taskId, version } = kept.rebuild;
      const drawn = await drawnOfVersion(store, taskId, version, deadline);
      if (!drawn) {
        log("warn", "split answer not rebuilt: replaying it without its id lists", { task_id: taskId, version });
        return kept.body;
      }
      const {
        code,
        msg,
        task_id,
        ids_omitted: _omitted,
        set_sizes: _sizes,
        ...rest
      } = JSON.parse(kept.body) as Record<string, unknown>;
      const lists = { [LISTS[0]]: drawn[TRAINING], [LISTS[1]]: drawn[VERIFYING], [LISTS[2]]: drawn[TESTING] };
      return JSON.stringify({ code, msg, task_id, ...lists, ...rest });
    },
  };
}

/**
 * The id lists of split `version` of a task exactly as its answer listed them, or undefined when
 * that cannot be known any more. The snapshot says which set each order_id went to; the order
 * within a set is the seeded permutation of the images the split planned over (every algorithm
 * in PERMUTATION_ORDERED draws each set in that order, whatever the mode or options). Those
 * images are the ones with order_id ≤ the split's N, provided there are exactly as many as the
 * split saw (its set sizes plus its unassigned count): registration never removes an image or
 * changes an order_id, so equal counts mean the same images. Undefined when the version has left
 * the task's history, its snapshot has expired, or the images differ.
 */
export async function drawnOfVersion(
  store: Store,
  taskId: string,
  version: number,
  deadline?: number,
): Promise<Record<SetType, string[]> | undefined> {
  const task = await store.readTask(taskId, deadline);
  const record = [task?.live, ...(task?.history ?? [])].find((candidate) => candidate?.version === version);
  if (!record || !PERMUTATION_ORDERED.has(record.algorithm)) return undefined;
  const images = (await store.readImages(taskId, deadline)).filter((image) => image.orderId <= record.n);
  const achieved = record.achieved[TRAINING] + record.achieved[VERIFYING] + record.achieved[TESTING];
  if (images.length !== achieved + record.unassigned) return undefined;
  let assignment: Int8Array;
  try {
    assignment = await store.readAssignment(taskId, record, deadline);
  } catch (error) {
    if (error instanceof ServiceError && error.code === 1015) return undefined;
    throw error;
  }
  const ids = readIds(images);
  const drawn: Record<SetType, string[]> = { [TRAINING]: [], [TESTING]: [], [VERIFYING]: [] };
  for (const i of permutation(ids, record.seed)) {
    const setType = assignment[images[i]!.orderId] ?? -1;
    if (setType >= 0) drawn[setType as SetType].push(ids[i]!);
  }
  return SET_TYPES.every((setType) => drawn[setType].length === record.achieved[setType]) ? drawn : undefined;
}
