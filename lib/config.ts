/** Runtime settings, all from the environment, with defaults that suit the local server. */
export interface StoreConfig {
  tableName: string;
  region: string;
  /** Set for DynamoDB Local or another endpoint; unset in AWS. */
  endpoint: string | undefined;
  /** Storage calls in flight at once within one request (parallel reads, batch writes). */
  concurrency: number;
  /**
   * How long one request may spend on storage, retries included, when the caller gives no deadline
   * (a Lambda handler derives it from the time the function has left).
   */
  budgetMs: number;
  /** Time kept free at the end of a function's run, so its answer reaches API Gateway before 29 s. */
  answerMarginMs: number;
  /** Longest wait for one DynamoDB answer before the call is retried. */
  requestTimeoutMs: number;
  /** How long a page waits for the order index to show images it lags on before answering 503. */
  indexWaitMs: number;
  /** How long a retired or dead snapshot stays readable before its TTL expiry (at least an hour in AWS). */
  snapshotGraceSeconds: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Reads and checks the configuration; throws at cold start rather than failing requests later. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  return {
    tableName: env.TABLE_NAME || "training-sets",
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "local",
    endpoint: env.DYNAMODB_ENDPOINT || undefined,
    concurrency: Math.floor(positive(env, "STORAGE_CONCURRENCY", 16)),
    budgetMs: positive(env, "STORAGE_BUDGET_MS", 25_000),
    answerMarginMs: positive(env, "ANSWER_MARGIN_MS", 1_500),
    requestTimeoutMs: positive(env, "STORAGE_REQUEST_TIMEOUT_MS", 5_000),
    indexWaitMs: positive(env, "INDEX_WAIT_MS", 2_000),
    snapshotGraceSeconds: positive(env, "SNAPSHOT_GRACE_SECONDS", 3_600),
  };
}

/**
 * Largest answer, in bytes, as Lambda carries it (lib/http/answer-size.ts): a PUT leaves its id
 * lists out beyond it, a GET page ends early.
 */
export function readMaxAnswerBytes(env: NodeJS.ProcessEnv = process.env): number {
  return Math.floor(positive(env, "MAX_ANSWER_BYTES", 5_000_000));
}

/**
 * Browser origins the HTTP functions answer with Access-Control-Allow-Origin: CORS_ORIGINS,
 * comma-separated (the stack sets it from the corsOrigins context); "*" allows any origin.
 */
export function readCorsOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.CORS_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
}

/** Idempotency-Key settings (docs/api.md "Idempotency keys"): the SplitTask and RegisterImages functions. */
export interface IdempotencySettings {
  /** The idempotency table: partition key `id` (S), TTL attribute `expiration`. */
  tableName: string;
  /** How long a key's answer is replayed, in seconds. */
  expirySeconds: number;
  /**
   * Largest answer body kept whole in an idempotency record (an item holds at most 400 KB, and each
   * KB is a write unit); a bigger split answer is kept without its id lists and rebuilt on replay.
   */
  keepBytes: number;
}

export function readIdempotencySettings(env: NodeJS.ProcessEnv = process.env): IdempotencySettings {
  return {
    tableName: env.IDEMPOTENCY_TABLE || "training-sets-idempotency",
    expirySeconds: Math.floor(positive(env, "IDEMPOTENCY_EXPIRY_SECONDS", 3_600)),
    keepBytes: Math.floor(positive(env, "IDEMPOTENCY_KEEP_BYTES", 200_000)),
  };
}
