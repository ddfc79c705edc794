import { truncated } from "../capped.ts";
import {
  type Capped,
  type DeleteResult,
  type Image,
  type ImageCursor,
  type ImagePage,
  type LabelCount,
  type PageBudget,
  type RegisterResult,
  SET_TYPES,
  type SetCursor,
  type SetPage,
  type SetSizes,
  type SetType,
  type SplitRecord,
  type SplitResult,
  type TaskSummary,
  TESTING,
  TRAINING,
  VERIFYING,
} from "../model.ts";
import { shownTaskId } from "../store/task-key.ts";
import { answerBytes, carriedBytes, listEntriesBytes } from "./answer-size.ts";
import { encodeCursor, encodeImageCursor } from "./cursor.ts";

const bySetName = (sizes: SetSizes) => ({
  training: sizes[TRAINING],
  verifying: sizes[VERIFYING],
  testing: sizes[TESTING],
});

/**
 * A list capped in bytes as an answer carries it: its first entries under `name`, and when some
 * were left out, `<name>_total` (how many there were) and `<name>_truncated: true`.
 */
const cappedList = <Name extends string, T, U>(name: Name, list: Capped<T>, entry: (item: T) => U) =>
  ({
    [name]: list.items.map(entry),
    ...(truncated(list) ? { [`${name}_total`]: list.total, [`${name}_truncated`]: true } : {}),
  }) as { [K in Name]: U[] } & { [K in `${Name}_total`]?: number } & { [K in `${Name}_truncated`]?: true };

const labelCount = (count: LabelCount) => ({
  label: count.label,
  ...bySetName(count.sizes),
  unassigned: count.unassigned,
});

const EMPTY_LISTS = { img_ids_set_training: [], img_ids_set_verifying: [], img_ids_set_testing: [] };

/**
 * The id lists, or, when they would take the answer past `maxAnswerBytes` as Lambda carries it,
 * their sizes and `ids_omitted`. `answerWith` builds the whole answer around what this returns.
 */
const idLists = (split: SplitResult, maxAnswerBytes: number, answerWith: (lists: object) => object) => {
  const room = maxAnswerBytes - answerBytes(answerWith(EMPTY_LISTS));
  let listsBytes = 0;
  for (const setType of SET_TYPES) listsBytes += listEntriesBytes(split.drawn[setType], room - listsBytes);
  return listsBytes <= room && !split.idsLost
    ? {
        img_ids_set_training: split.drawn[TRAINING],
        img_ids_set_verifying: split.drawn[VERIFYING],
        img_ids_set_testing: split.drawn[TESTING],
      }
    : {
        ids_omitted: true,
        set_sizes: bySetName(split.sizes),
      };
};

/**
 * Whether a split asked with `spec` answers the planner's account: the legacy request (counts and
 * no option) gets the legacy answer; ratios or any option add the account.
 */
export const answersDetails = (spec: { counts?: unknown; options?: unknown }): boolean =>
  spec.counts === undefined || spec.options !== undefined;

/**
 * The legacy API's success body for a split, plus the additive fields task_id, unassigned_count,
 * seed, version; a request that used ratios or an option also gets the planner's account.
 */
export const splitResponse = (split: SplitResult, options: { withDetails: boolean; maxAnswerBytes: number }) =>
  splitAnswer(
    split,
    options,
    idLists(split, options.maxAnswerBytes, (lists) => splitAnswer(split, options, lists)),
  );

/** A split's answer with `lists` (the id lists, or what stands in for them) after task_id. */
const splitAnswer = <Lists extends object>(split: SplitResult, options: { withDetails: boolean }, lists: Lists) => ({
  code: 0,
  msg: "TaskImgRel 表 图像集合数据更新， 成功",
  task_id: shownTaskId(split.taskId),
  ...lists,
  unassigned_count: split.unassignedCount,
  seed: split.seed,
  version: split.version,
  ...(options.withDetails && split.details
    ? {
        dry_run: split.details.dryRun,
        algorithm: split.details.algorithm,
        requested_sizes: bySetName(split.details.requested),
        achieved_sizes: bySetName(split.details.achieved),
        ...cappedList("label_counts", split.details.labelCounts, labelCount),
        rare_labels: {
          policy: split.details.rareLabelPolicy,
          ...cappedList("labels", split.details.rareLabels, labelCount),
        },
        moved_count: split.details.moved,
        newly_assigned_count: split.details.newlyAssigned,
        ...cappedList("leaked_groups", split.details.leakedGroups, (group) => group),
        held_back_count: split.details.heldBack,
      }
    : {}),
});

/** A set page's budget: the answer as Lambda carries it (answer-size.ts), at most `maxBytes`. */
export const setPageBudget = (setType: SetType, maxBytes: number): PageBudget<SetCursor> => ({
  maxBytes,
  emptyBytes: (taskId, nextCursor) => answerBytes(setPageResponse({ taskId, images: [], nextCursor }, setType)),
  imageBytes: (image, first) => carriedBytes(image) + (first ? 0 : 1),
});

/** An image page's budget, counted as setPageBudget's. */
export const imagePageBudget = (maxBytes: number): PageBudget<ImageCursor> => ({
  maxBytes,
  emptyBytes: (taskId, nextCursor) => answerBytes(imagePageResponse({ taskId, images: [], nextCursor })),
  imageBytes: (image, first) => carriedBytes(image) + (first ? 0 : 1),
});

/** The legacy API's success body for one set; `next_cursor` only when more images follow. */
export const setPageResponse = (page: SetPage, setType: SetType) => ({
  code: 0,
  msg: `集合编号id=${setType}的图像数据查询成功`,
  task_id: shownTaskId(page.taskId),
  img_info_list: page.images,
  ...(page.nextCursor ? { next_cursor: encodeCursor(page.nextCursor) } : {}),
});

/** A recorded split as the summary shows it; the history's entries leave the label counts out. */
const splitRecord = (record: SplitRecord, { labelCounts }: { labelCounts: boolean }) => {
  const options = record.spec.options;
  return {
    version: record.version,
    seed: record.seed,
    algorithm: record.algorithm,
    split_at: record.splitAt,
    mode: options?.mode ?? "fresh",
    options: {
      stratify_by: options?.stratifyBy ?? null,
      group_by: options?.groupBy ?? null,
      rare_labels: options?.rareLabels ?? "training",
      lock_testing: options?.lockTesting ?? false,
    },
    ...(record.spec.counts ? { counts: bySetName(record.spec.counts) } : { ratios: bySetName(record.spec.ratios) }),
    requested_sizes: bySetName(record.requested),
    achieved_sizes: bySetName(record.achieved),
    unassigned_count: record.unassigned,
    moved_count: record.moved,
    ...(labelCounts ? cappedList("label_counts", record.labelCounts, labelCount) : {}),
    ...cappedList("leaked_groups", record.leakedGroups, (group) => group),
  };
};

/** GET /training/tasks/sets?task_id=… without set_type_id: the live split and the recent ones. */
export const summaryResponse = (summary: TaskSummary) => ({
  code: 0,
  msg: "任务分集概况查询成功",
  task_id: shownTaskId(summary.taskId),
  image_count: summary.imageCount,
  unassigned_count: summary.unassignedCount,
  deleted_count: summary.deletedCount,
  split: summary.live ? splitRecord(summary.live, { labelCounts: true }) : null,
  history: summary.history.map((record) => splitRecord(record, { labelCounts: false })),
});

export const registerResponse = (result: RegisterResult) => ({
  code: 0,
  msg: "图像登记成功",
  task_id: shownTaskId(result.taskId),
  added: result.added,
  updated: result.updated,
  unchanged: result.unchanged,
  total: result.total,
});

/** GET /training/tasks/images?task_id=…&img_id=…: one image and its set in the live split. */
export const imageResponse = (taskId: string, image: Image) => ({
  code: 0,
  msg: "图像查询成功",
  task_id: shownTaskId(taskId),
  image,
});

/** GET /training/tasks/images?task_id=…: one page of the task's images; `next_cursor` only when more follow. */
export const imagePageResponse = (page: ImagePage) => ({
  code: 0,
  msg: "任务图像查询成功",
  task_id: shownTaskId(page.taskId),
  img_info_list: page.images,
  ...(page.nextCursor ? { next_cursor: encodeImageCursor(page.nextCursor) } : {}),
});

export const deleteResponse = (result: DeleteResult) => ({
  code: 0,
  msg: "图像删除成功",
  task_id: shownTaskId(result.taskId),
  deleted: result.deleted,
  already_deleted: result.alreadyDeleted,
  not_found: result.notFound,
  total: result.total,
});
