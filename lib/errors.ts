/** Every error the service answers with: the codes of docs/api.md "Errors", 1016 for a bad seed, 1017–1022 for the split options, 1028–1029 for schedules. */
const catalogue = {
  1001: { status: 400, msg: () => "请求体必须是 JSON 对象" },
  1002: { status: 400, msg: () => "task_id 缺失或格式错误" },
  1003: { status: 404, msg: (p) => `任务id为 ${p.task_id} 的任务下没有图像` },
  1004: { status: 400, msg: () => "set_type_id 必须是 0（训练）、1（测试）或 2（验证）" },
  1005: { status: 400, msg: () => "验证集中图像的个数不能小于0" },
  1006: { status: 400, msg: () => "测试集中图像的个数不能小于0" },
  1007: { status: 400, msg: (p) => `三个集合的图像个数之和 ${p.sum} 超过了任务下的图像总数 ${p.total}` },
  1008: { status: 409, msg: (p) => `任务 ${p.task_id} 正在分集，请稍后重试` },
  1009: { status: 400, msg: () => "训练集中图像的个数不能小于等于0" },
  1010: {
    status: 404,
    msg: (p) => `获取 任务id为 ${p.task_id}，属于集合 ${p.set_type_id}，的图像的相关数据 失败`,
  },
  1011: { status: 400, msg: (p) => `图像数据格式错误: ${p.field}` },
  1012: { status: 400, msg: () => "分页参数错误" },
  1013: { status: 404, msg: () => "接口不存在" },
  1014: { status: 413, msg: () => "请求体过大" },
  1015: { status: 409, msg: () => "集合已重新划分，请从第一页重新读取" },
  1016: { status: 400, msg: () => "seed 必须是 1–128 个字符的字符串或安全整数" },
  1017: { status: 400, msg: () => "ratios 不能与 training_count、verifying_count、testing_count 同时使用" },
  1018: { status: 400, msg: (p) => `ratios 无效: ${p.reason}` },
  1019: { status: 400, msg: (p) => `分集选项 ${p.field} 无效: ${p.rule}` },
  1020: { status: 400, msg: (p) => `以下标签的图像太少，无法按 rare_labels=${p.policy} 放置: ${p.labels}` },
  1021: { status: 400, msg: (p) => `mode keep 需要移动已分配的图像: ${p.reason}` },
  1022: { status: 400, msg: () => "lock_testing 需要任务当前的分集已有非空的测试集" },
  1023: { status: 400, msg: (p) => `未知字段: ${p.field}` },
  1024: { status: 422, msg: () => "Idempotency-Key 已用于另一个请求" },
  1025: { status: 409, msg: () => "相同 Idempotency-Key 的请求仍在处理中" },
  1026: { status: 404, msg: (p) => `任务 ${p.task_id} 下没有图像 ${p.img_id}` },
  // Answered by API Gateway itself (the stack's gateway responses), never by a function: 401 when
  // credentials are missing or expired, 403 when they are invalid or not allowed.
  1027: { status: 403, msg: () => "未授权的请求" },
  1028: { status: 400, msg: (p) => `调度表达式错误: ${p.which}` },
  1029: { status: 404, msg: (p) => `任务 ${p.task_id} 没有调度` },
  1500: { status: 500, msg: () => "服务器内部错误，请稍后重试" },
} satisfies Record<number, { status: number; msg: (p: Record<string, string | number>) => string }>;

export type ErrorCode = keyof typeof catalogue;

/**
 * Every code with its usual HTTP status and its message pattern (each parameter as `{name}`),
 * read-only: the OpenAPI document (lib/contract/openapi.ts) is generated from it.
 */
export const errorCatalogue = (): { code: ErrorCode; status: number; msg: string }[] =>
  (Object.keys(catalogue) as unknown as string[]).map((key) => {
    const code = Number(key) as ErrorCode;
    const placeholders = new Proxy({}, { get: (_, name) => `{${String(name)}}` }) as Record<string, string>;
    return { code, status: catalogue[code].status, msg: catalogue[code].msg(placeholders) };
  });

/** A failure the caller is told about: a code of docs/api.md, its HTTP status and its Chinese message. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  readonly retryAfter: number | undefined;
  /** English, for the engineer calling the API: what exactly was refused or happened. */
  readonly detail: string | undefined;
  /**
   * For a split that reached its publish: whether it is known not to be published, or may have
   * been (an Idempotency-Key is then never released).
   */
  readonly outcome: "not-published" | "unknown" | undefined;

  constructor(
    code: ErrorCode,
    params: Record<string, string | number> = {},
    options: {
      status?: number;
      retryAfter?: number;
      cause?: unknown;
      detail?: string;
      outcome?: "not-published" | "unknown";
    } = {},
  ) {
    const entry = catalogue[code];
    super(entry.msg(params), { cause: options.cause });
    this.name = "ServiceError";
    this.code = code;
    this.status = options.status ?? entry.status;
    this.retryAfter = options.retryAfter;
    this.detail = options.detail;
    this.outcome = options.outcome;
  }
}

/** Storage gave up after its retries: 503 when the cause was throttling, else 500. */
export const storageUnavailable = (cause: unknown, throttled: boolean): ServiceError =>
  throttled ? new ServiceError(1500, {}, { status: 503, retryAfter: 1, cause }) : new ServiceError(1500, {}, { cause });

/** An error as a plain object for a structured log line: name, message, stack and causes. Never sent to a caller. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    cause: error.cause && describeError(error.cause),
  };
}
