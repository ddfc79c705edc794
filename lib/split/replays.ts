import { answersDetails, splitResponse } from "../http/answers.ts";
import type { KeptAnswer, RunningSplit, SplitReplays } from "../http/idempotency.ts";
import { ok } from "../http/service.ts";
import { log } from "../log.ts";
import { TESTING, TRAINING, VERIFYING } from "../model.ts";
import type { Store } from "../store/index.ts";
import { publishedResult } from "./split.ts";

const LISTS = ["img_ids_set_training", "img_ids_set_verifying", "img_ids_set_testing"] as const;

/**
 * What the Idempotency-Key of PUT /training/tasks/sets needs of splits: a big answer is kept
 * without its id lists (`ids_omitted` and `set_sizes` in their place, the shape a split too big
 * for one answer has anyway) and the lists are rebuilt on replay; a split whose answer was lost is
 * looked up by its token and, when published, answered from its record and snapshot.
 */
export function splitReplays(store: Store, maxAnswerBytes: number): SplitReplays {
  return {
    compact(answer, split) {
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
        rebuild: rest.dry_run === true || !split ? undefined : split,
      };
    },

    async expand(kept, deadline) {
      if (!kept.rebuild) return kept.body;
      const { task_id: taskId, ...ref } = kept.rebuild;
      const record = await store.readRecord(taskId, ref, deadline);
      const result = record && (await publishedResult(store, taskId, record, deadline));
      if (!result || result.idsLost) {
        log("warn", "split answer not rebuilt: replaying it without its id lists", { task_id: taskId, ...ref });
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
      const { drawn } = result;
      const lists = { [LISTS[0]]: drawn[TRAINING], [LISTS[1]]: drawn[VERIFYING], [LISTS[2]]: drawn[TESTING] };
      return JSON.stringify({ code, msg, task_id, ...lists, ...rest });
    },

    async recover(split: RunningSplit, deadline): Promise<KeptAnswer | "not-published" | "unknown"> {
      const { task_id: taskId, ...ref } = split;
      const standing = await store.standing(taskId, ref, deadline);
      if (standing === "absent" || standing === "lost") return "not-published";
      if (standing === "unknown") return "unknown";
      const record = await store.readRecord(taskId, ref, deadline);
      if (!record) return "unknown";
      const result = await publishedResult(store, taskId, record, deadline);
      const answer = ok(splitResponse(result, { withDetails: answersDetails(record.spec), maxAnswerBytes }));
      return { statusCode: answer.statusCode, headers: answer.headers as Record<string, string>, body: answer.body };
    },
  };
}
