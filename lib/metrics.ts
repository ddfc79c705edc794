import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { SERVICE_NAME, serviceLogger, writeLine } from "./log.ts";

/** The one CloudWatch namespace of the service. */
export const NAMESPACE = "TrainingSets";

/**
 * The service's metrics (docs/operations.md "Logs and metrics"). Every one carries the dimension `service`;
 * the ones marked so carry one more. A task_id is never a dimension: each value would be a
 * metric of its own, billed; it belongs in the logs.
 */
const METRIC = {
  /** Count, dimensions `route` and `code`: every HTTP answer, by route and error code (docs/api.md) (0 = success). */
  answers: "Answers",
  /** Milliseconds: a published split, from its first read to its publish. */
  splitDuration: "SplitDuration",
  /** Count: the images a published split planned over. */
  splitSize: "SplitSize",
  /** Count: splits that lost the race to publish (1008). */
  splitsRefused: "SplitsRefused",
  /** Count: storage calls (or unprocessed batch items) throttled and tried again. */
  throttledRetries: "ThrottledRetries",
  /** Count: throttled storage work that ran out of time (a 1500/503). */
  throttledExhausted: "ThrottledExhausted",
  /** Count, dimension `outcome` (split, skipped, failed): the tasks of a scheduled re-split. */
  resplitTasks: "ResplitTasks",
} as const;

type Value = { name: string; unit: (typeof MetricUnit)[keyof typeof MetricUnit]; value: number };

/** Values kept of one metric between flushes: under 100, where Powertools would publish on its own. */
const MAX_VALUES = 99;

const metrics = new Metrics({ namespace: NAMESPACE, serviceName: SERVICE_NAME });

/** What happened since the last flush, with no dimension but `service`. */
const pending = { splitMs: [] as number[], splitImages: [] as number[], refused: 0, retried: 0, exhausted: 0 };

/**
 * Whether EMF lines are written: POWERTOOLS_METRICS_DISABLED decides when set; otherwise they are,
 * except under a test runner (NODE_ENV=test), which they would only clutter.
 */
export function metricsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const flag = env.POWERTOOLS_METRICS_DISABLED?.trim().toLowerCase();
  if (flag) return !(flag === "true" || flag === "1");
  return env.NODE_ENV !== "test";
}

let warned = false;

/** One EMF line (Powertools' serialization) with these dimensions besides `service`. Never throws. */
function emit(dimensions: Record<string, string>, values: readonly Value[]): void {
  if (values.length === 0 || !metricsEnabled()) return;
  let line: string;
  try {
    for (const [name, value] of Object.entries(dimensions)) metrics.addDimension(name, value);
    for (const { name, unit, value } of values) metrics.addMetric(name, unit, value);
    line = JSON.stringify(metrics.serializeMetrics());
  } catch (error) {
    // A metric must never fail a request; say so once.
    if (!warned) serviceLogger().warn("metrics not emitted", { error });
    warned = true;
    return;
  } finally {
    metrics.clearMetrics();
    metrics.clearDimensions();
  }
  writeLine(line);
}

const keep = (values: number[], value: number) => {
  if (values.length < MAX_VALUES) values.push(value);
};

/** A split was published: its duration and the images it planned over. */
export function recordSplit(durationMs: number, images: number): void {
  keep(pending.splitMs, Math.round(durationMs));
  keep(pending.splitImages, images);
}

/** A split lost the race to publish (1008). */
export function countRefusedSplit(): void {
  pending.refused++;
}

/** The hook lib/store/client.ts calls: a throttled storage call is tried again, or has run out of time. */
export function countThrottle(event: "retried" | "exhausted"): void {
  if (event === "retried") pending.retried++;
  else pending.exhausted++;
}

/** Writes what was recorded since the last flush (one EMF line, or none) and forgets it. */
export function flushMetrics(): void {
  const { splitMs, splitImages, refused, retried, exhausted } = pending;
  pending.splitMs = [];
  pending.splitImages = [];
  pending.refused = pending.retried = pending.exhausted = 0;
  const values: Value[] = [
    ...splitMs.map((value) => ({ name: METRIC.splitDuration, unit: MetricUnit.Milliseconds, value })),
    ...splitImages.map((value) => ({ name: METRIC.splitSize, unit: MetricUnit.Count, value })),
  ];
  for (const [name, value] of [
    [METRIC.splitsRefused, refused],
    [METRIC.throttledRetries, retried],
    [METRIC.throttledExhausted, exhausted],
  ] as const) {
    if (value > 0) values.push({ name, unit: MetricUnit.Count, value });
  }
  emit({}, values);
}

/** The end of an HTTP request: one answer of `code` on `route`, then whatever the request recorded. */
export function publishAnswer(route: string, code: number): void {
  emit({ route, code: String(code) }, [{ name: METRIC.answers, unit: MetricUnit.Count, value: 1 }]);
  flushMetrics();
}

/** One task of a scheduled re-split is done: its outcome, then whatever its split recorded. */
export function publishResplitOutcome(outcome: "split" | "skipped" | "failed"): void {
  emit({ outcome }, [{ name: METRIC.resplitTasks, unit: MetricUnit.Count, value: 1 }]);
  flushMetrics();
}
