import { ServiceError } from "../errors.ts";
import { TESTING, TRAINING, VERIFYING } from "../model.ts";
import {
  InvalidScheduleSetting,
  parseEnabled,
  parseExpression,
  parseTimezone,
  parseWindowMinutes,
} from "../schedule/index.ts";
import type { ScheduleSettings } from "../schedule/timing.ts";
import {
  checkFields,
  type FieldPolicy,
  OPTION_FIELDS,
  RATIO_FIELDS,
  SCHEDULE_FIELDS,
  SCHEDULE_QUERY_FIELDS,
  SCHEDULE_SPLIT_FIELDS,
  STRICT,
  shown,
} from "./fields.ts";
import { parseSplitOptions, parseSplitSizes } from "./validate.ts";
import { asObject, own, parseTaskId, requireObject, unquote } from "./values.ts";

/** A schedule setting through lib/schedule's parser, its refusal answered as 1028 naming the setting. */
function setting<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidScheduleSetting) {
      throw new ServiceError(1028, { which: error.which }, { detail: error.detail });
    }
    throw error;
  }
}

/**
 * A schedule's `split`, checked as PUT /training/tasks/sets checks its body, in its order — sizes
 * (1017, 1018, or 1009, 1005, 1006), then the options (1019) — less what needs the task's data,
 * and with `dry_run: true` refused (1019): a run that writes nothing is no run. Kept as the body a
 * run splits with: the counts or the ratios, then the options the request gave, parsed.
 */
function parseScheduleSplit(value: unknown): Record<string, unknown> {
  const fields = asObject(value);
  if (fields === undefined) {
    throw new ServiceError(
      1001,
      {},
      {
        detail: `split must be a JSON object, the body of PUT /training/tasks/sets without task_id and seed, got ${shown(value)}`,
      },
    );
  }
  const sizes = parseSplitSizes(fields);
  const options = parseSplitOptions(fields);
  if (options?.dryRun) {
    throw new ServiceError(
      1019,
      { field: "dry_run", rule: "调度的分集不能是试运行" },
      { detail: "split.dry_run cannot be true: a scheduled split is published" },
    );
  }
  const split: Record<string, unknown> = sizes.counts
    ? {
        training_count: sizes.counts[TRAINING],
        verifying_count: sizes.counts[VERIFYING],
        testing_count: sizes.counts[TESTING],
      }
    : {
        ratios: {
          training: sizes.ratios[TRAINING],
          verifying: sizes.ratios[VERIFYING],
          testing: sizes.ratios[TESTING],
        },
      };
  for (const field of OPTION_FIELDS) {
    const given = own(fields, field);
    if (given !== undefined) split[field] = given;
  }
  return split;
}

/**
 * Validates a PUT /training/tasks/schedule body: body 1001, unknown fields 1023 (in `split` and its
 * `ratios` too), task_id 1002, then in the request's field order expression 1028, timezone 1028,
 * split (the split's own codes), enabled 1028, window_minutes 1028.
 */
export function parseScheduleRequest(
  body: unknown,
  policy: FieldPolicy = STRICT,
): ScheduleSettings & { taskId: string } {
  const fields = requireObject(body);
  checkFields(fields, SCHEDULE_FIELDS, policy);
  const splitFields = asObject(own(fields, "split"));
  if (splitFields) {
    checkFields(splitFields, SCHEDULE_SPLIT_FIELDS, policy, "split.");
    const ratioFields = asObject(own(splitFields, "ratios"));
    if (ratioFields) checkFields(ratioFields, RATIO_FIELDS, policy, "split.ratios.");
  }
  const taskId = parseTaskId(own(fields, "task_id"));
  const expression = setting(() => parseExpression(own(fields, "expression"))).text;
  const timezone = setting(() => parseTimezone(own(fields, "timezone")));
  const split = parseScheduleSplit(own(fields, "split"));
  const enabled = setting(() => parseEnabled(own(fields, "enabled")));
  const windowMinutes = setting(() => parseWindowMinutes(own(fields, "window_minutes")));
  return { taskId, expression, timezone, split, enabled, windowMinutes };
}

/** GET and DELETE /training/tasks/schedule: unknown parameters 1023, then task_id 1002 (one pair of quotes stripped). */
export function parseScheduleQuery(
  query: Record<string, string | undefined> | null | undefined,
  policy: FieldPolicy = STRICT,
): { taskId: string } {
  const params: Record<string, unknown> = query ?? {};
  checkFields(params, SCHEDULE_QUERY_FIELDS, policy, "", "query parameter");
  return { taskId: parseTaskId(unquote(own(params, "task_id"))) };
}
