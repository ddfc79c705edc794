import { encodeCursor } from "./cursor.ts";
import { type RegisterResult, type SetPage, type SetType, type SplitResult, TESTING, TRAINING, VERIFYING } from "./model.ts";

/** The seed's success body for a split, plus the additive fields task_id, unassigned_count, seed, version. */
export const splitResponse = (split: SplitResult) => ({
  code: 0,
  msg: "TaskImgRel 表 图像集合数据更新， 成功",
  task_id: split.taskId,
  img_ids_set_training: split.drawn[TRAINING],
  img_ids_set_verifying: split.drawn[VERIFYING],
  img_ids_set_testing: split.drawn[TESTING],
  unassigned_count: split.unassignedCount,
  seed: split.seed,
  version: split.version,
});

/** The seed's success body for one set; `next_cursor` only when more images follow. */
export const setPageResponse = (page: SetPage, setType: SetType) => ({
  code: 0,
  msg: `集合编号id=${setType}的图像数据查询成功`,
  task_id: page.taskId,
  img_info_list: page.images,
  ...(page.nextCursor ? { next_cursor: encodeCursor(page.nextCursor) } : {}),
});

export const registerResponse = (result: RegisterResult) => ({
  code: 0,
  msg: "图像登记成功",
  task_id: result.taskId,
  added: result.added,
  updated: result.updated,
  total: result.total,
});
