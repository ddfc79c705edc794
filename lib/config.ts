/** Runtime settings, all from the environment, with defaults that suit the local server. */
export interface StoreConfig {
  tableName: string;
  region: string;
  /** Set for DynamoDB Local or another endpoint; unset in AWS. */
  endpoint: string | undefined;
  /** How long a split or registration may hold a task before others may take it over. */
  leaseMs: number;
  /** How long a registration waits for a running split before answering 1008. */
  registerWaitMs: number;
  /** BatchWriteItem requests in flight at once during a split. */
  writeConcurrency: number;
  /** How long a split waits for its slot index to show every written image. */
  indexWaitMs: number;
  /** Attempts per storage call (SDK retries) and per batch of unprocessed items. */
  maxAttempts: number;
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
    leaseMs: positive(env, "LEASE_SECONDS", 30) * 1000,
    registerWaitMs: positive(env, "REGISTER_WAIT_MS", 3000),
    writeConcurrency: Math.floor(positive(env, "WRITE_CONCURRENCY", 16)),
    indexWaitMs: positive(env, "INDEX_WAIT_MS", 20_000),
    maxAttempts: Math.floor(positive(env, "STORAGE_MAX_ATTEMPTS", 6)),
  };
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
