/**
 * Idempotent retries (docs/api.md "Idempotency keys"): a PUT /training/tasks/sets, POST or DELETE
 * /training/tasks/images that carries an `Idempotency-Key` header runs once per key, route and
 * caller within IDEMPOTENCY_EXPIRY_SECONDS; a retry gets the first answer again with
 * `Idempotent-Replayed: true`. One record a key, in a table of its own (partition key `id`, TTL on
 * `expiration`):
 * - acquired with a conditional put (`INPROGRESS`, its owner, until when the owner may still be
 *   running); a retry meanwhile is 1025, one with another body 1024;
 * - a split writes its version and token into the record before it publishes;
 * - a 200 answer is saved in it (`COMPLETED`) and replayed; a failure that is known to have changed
 *   nothing releases the key; a split whose outcome is unknown never does;
 * - a record whose owner's time has run out is taken over, and when it names a split, the split's
 *   outcome decides: published, its answer rebuilt and replayed; not published, the request runs
 *   anew; unknown, 503.
 */

import { createHash, randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { MiddlewareObj, Request } from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { type IdempotencySettings, readCorsOrigins, readIdempotencySettings, type StoreConfig } from "../config.ts";
import { describeError, ServiceError, storageUnavailable } from "../errors.ts";
import { log } from "../log.ts";
import { documentClient, isLoopback, isThrottling } from "../store/client.ts";
import {
  COMPLETED,
  ensureIdempotencyTable,
  type Holder,
  IN_PROGRESS,
  idempotencyClient,
  type KeptAnswer,
  type KeyRecord,
  keyRecords,
  type RunningSplit,
} from "./key-records.ts";
import { answerDeadline, corsHeaders } from "./service.ts";
import { tenantPrefixOf } from "./tenancy.ts";

export { ensureIdempotencyTable, idempotencyClient, type KeptAnswer, type RunningSplit } from "./key-records.ts";

/** The request header (lower case: the header normalizer has run) and the replay header. */
const IDEMPOTENCY_HEADER = "idempotency-key";
const REPLAYED_HEADER = "Idempotent-Replayed";

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

/** A key is its caller's, within the caller's tenant: the same key under two tenants is two requests. */
function scopeOf(event: APIGatewayProxyEvent): string {
  const tenant = tenantPrefixOf(event);
  return tenant === undefined ? callerOf(event) : `${callerOf(event)}\n${tenant}`;
}

/** How a route that splits keeps big answers small, and learns what became of a split whose answer was lost. */
export interface SplitReplays {
  /** A smaller record of `answer` (its body is more than IDEMPOTENCY_KEEP_BYTES), made by `split`. */
  compact(answer: KeptAnswer, split: RunningSplit | undefined): KeptAnswer;
  /** The answer body back from what `compact` kept. */
  expand(kept: KeptAnswer, deadline: number | undefined): Promise<string>;
  /**
   * What became of `split` whose answer was lost: its answer rebuilt when it was published,
   * "not-published", or "unknown".
   */
  recover(split: RunningSplit, deadline: number | undefined): Promise<KeptAnswer | "not-published" | "unknown">;
}

export interface IdempotencyOptions {
  /** The route's name (lib/routes.ts): part of the record's id, so one key on two routes is two keys. */
  route: string;
  /** Region, endpoint, timeouts and budget of the storage client. */
  storage: Pick<StoreConfig, "region" | "endpoint" | "requestTimeoutMs" | "answerMarginMs" | "budgetMs">;
  settings?: IdempotencySettings;
  /** For the route that splits. */
  splits?: SplitReplays;
  client?: DynamoDBClient;
}

interface State extends Holder {
  /** This request holds the record: only it may release it or save an answer in it. */
  acquired: boolean;
  /** The split this request is running, once the record names it. */
  split?: RunningSplit;
}

type Internal = Record<string, unknown>;
type HttpRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, Internal>;
const STATE = "training-sets.idempotency";

/** Records larger than this are not saved (an item holds 400 KB): the key then stays in progress until it lapses. */
const MAX_RECORD_BYTES = 350 * 1024;

/** Each request's hook for its split, by event. */
const splitHooks = new WeakMap<object, (split: RunningSplit) => Promise<void>>();

/**
 * The hook a split runs before its publish when its request carries an Idempotency-Key: it names
 * the split in the key's record, so a retry can learn whether it was published. Undefined without a key.
 */
export const beforePublishOf = (event: object): ((split: RunningSplit) => Promise<void>) | undefined =>
  splitHooks.get(event);

/** JSON with object keys sorted, so equal bodies have equal digests whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const digest = (text: string) => createHash("sha256").update(text).digest("base64url");

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
  const records = keyRecords(documentClient(client), settings.tableName);
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
  const stateOf = (request: HttpRequest) => request.internal[STATE] as State | undefined;
  const timeLeft = (context: Context | undefined) => {
    const left = context?.getRemainingTimeInMillis?.();
    return typeof left === "number" && left > 0 ? left : options.storage.budgetMs + options.storage.answerMarginMs;
  };
  const storageDeadline = (context: Context | undefined) =>
    answerDeadline(context, options.storage.answerMarginMs) ?? Date.now() + options.storage.budgetMs;
  const replay = (request: HttpRequest, kept: KeptAnswer, body: string) => ({
    statusCode: kept.statusCode,
    headers: {
      ...kept.headers,
      [REPLAYED_HEADER]: "true",
      ...corsHeaders(request.event.headers?.origin ?? undefined, readCorsOrigins()),
    },
    body,
  });

  /** The record this request holds from here: a split it runs is named in it before its publish. */
  const hold = (request: HttpRequest, state: State) => {
    state.acquired = true;
    splitHooks.set(request.event, async (split) => {
      await records.nameSplit(state, split);
      state.split = split;
    });
  };

  /** A record whose owner's time ran out: taken over, and its split (if it named one) settled first. */
  const takeOver = async (request: HttpRequest, state: State, previous: KeyRecord) => {
    if (!(await records.takeOver(previous, state.owner, Date.now() + timeLeft(request.context)))) throw inProgress();
    if (!previous.split || !options.splits) return hold(request, state);
    const outcome = await options.splits.recover(previous.split, storageDeadline(request.context));
    if (outcome === "not-published") return hold(request, state);
    if (outcome === "unknown") {
      // Never released: the next retry after this request's time asks again.
      throw new ServiceError(
        1500,
        {},
        {
          status: 503,
          retryAfter: 1,
          detail: `the first request with this Idempotency-Key ran split version ${previous.split.version}, and whether it was published cannot be learned now: retry later`,
        },
      );
    }
    state.acquired = true;
    state.split = previous.split;
    await save(state, outcome);
    return replay(request, outcome, outcome.body);
  };

  /** Saves a 200 answer in the held record; a failure leaves the key in progress, never released. */
  const save = async (state: State, answer: KeptAnswer) => {
    state.acquired = false;
    const tooBig = Buffer.byteLength(answer.body) > settings.keepBytes;
    const kept = tooBig && options.splits ? options.splits.compact(answer, state.split) : answer;
    if (Buffer.byteLength(JSON.stringify(kept)) > MAX_RECORD_BYTES) {
      log("error", "idempotency record too big to keep: the key stays in progress until it lapses", {
        route: options.route,
      });
      return;
    }
    try {
      await records.complete(state, kept);
    } catch (error) {
      // The work is done and its answer is right: the caller gets it. A retry gets 1025 until this
      // request's time has run out, then learns the outcome as a takeover does.
      log("error", "idempotency record not saved", { route: options.route, error: describeError(error) });
    }
  };

  /** Lets the key go when this request changed nothing; a split that may have been published keeps it. */
  const settle = async (request: HttpRequest, error: unknown) => {
    const state = stateOf(request);
    if (!state?.acquired) return;
    state.acquired = false;
    const unknown = state.split !== undefined && !(error instanceof ServiceError && error.outcome === "not-published");
    if (unknown) {
      log("warn", "idempotency key kept: its split may have been published", { route: options.route, ...state.split });
      return;
    }
    try {
      await records.release(state);
    } catch (failure) {
      // The error being answered matters more; the record lapses when this request's time runs out.
      log("error", "idempotency record not released", { route: options.route, error: describeError(failure) });
    }
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
      const state: State = {
        id: `${options.route}#${digest(`${key}\n${scopeOf(request.event)}`)}`,
        owner: randomUUID(),
        acquired: false,
      };
      request.internal[STATE] = state;
      const validation = digest(canonical(request.event.body ?? null));
      try {
        await ready();
        // Twice at most: a record that vanishes between the put and the read is tried once more.
        for (let attempt = 0; attempt < 2; attempt++) {
          const now = Date.now();
          const fresh: KeyRecord = {
            id: state.id,
            status: IN_PROGRESS,
            expiration: Math.floor(now / 1000) + settings.expirySeconds,
            in_progress_expiration: now + timeLeft(request.context),
            validation,
            owner: state.owner,
          };
          if (await records.create(fresh)) return hold(request, state);
          const previous = await records.read(state.id);
          if (!previous) continue;
          if (previous.validation !== validation) throw mismatch();
          if (previous.status === COMPLETED && previous.data) {
            const kept = previous.data;
            const body =
              kept.rebuild && options.splits
                ? await options.splits.expand(kept, storageDeadline(request.context))
                : kept.body;
            return replay(request, kept, body);
          }
          if ((previous.in_progress_expiration ?? 0) > now) throw inProgress();
          return await takeOver(request, state, previous);
        }
        throw inProgress();
      } catch (error) {
        if (error instanceof ServiceError) throw error;
        throw storageUnavailable(error, isThrottling(error));
      }
    },

    after: async (request) => {
      const state = stateOf(request);
      if (!state?.acquired) return;
      const response = request.response;
      if (response?.statusCode !== 200) return settle(request, undefined);
      await save(state, {
        statusCode: response.statusCode,
        headers: { ...(response.headers as Record<string, string> | undefined) },
        body: response.body,
      });
    },

    onError: async (request) => settle(request, request.error),
  };
}

const mismatch = () =>
  new ServiceError(
    1024,
    {},
    { detail: "this Idempotency-Key was first used with a different body: use a new key for a new request" },
  );

const inProgress = () =>
  new ServiceError(
    1025,
    {},
    { detail: "the first request with this Idempotency-Key is still running: retry later to get its answer" },
  );
