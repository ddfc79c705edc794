import { randomUUID } from "node:crypto";
import { unexpected } from "./errors.ts";
import { itemsOf, pagesOf } from "./iterators.ts";
import type { operations } from "./schema.ts";
import { type ClientOptions, createTransport } from "./transport.ts";
import {
  DELETE_TAKES_IDEMPOTENCY_KEY,
  type DeleteRequest,
  type DeleteResponse,
  type Image,
  type ImageInfo,
  type ImagePage,
  type ListOptions,
  type PageOptions,
  type RegisterRequest,
  type RegisterResponse,
  type ScheduleAnswer,
  type ScheduleDeleted,
  type ScheduleRequest,
  SET_TYPE_IDS,
  type SetName,
  type SetPage,
  type SetTypeId,
  type SplitRequest,
  type SplitResponse,
  type TaskSummary,
  type WriteOptions,
} from "./types.ts";

const SETS_PATH = "/training/tasks/sets";
const IMAGES_PATH = "/training/tasks/images";
const SCHEDULE_PATH = "/training/tasks/schedule";

/** The operations that serve the contract itself (the document and its page): the client calls neither. */
type ContractOperation = "openApiDocument" | "docsPage";

/** The operationIds of the routes the client calls: one method each, named exactly so. */
export type ClientOperation = Exclude<keyof operations, ContractOperation>;

type Method = (...args: never[]) => unknown;

/**
 * What the client must be: a method named by each operationId, and every other method named by
 * an operationId and what it adds (listSetPages …), so a renamed route fails typecheck.
 */
type ClientShape = { readonly baseUrl: string } & { readonly [Name in ClientOperation]: Method } & {
  readonly [name: `${ClientOperation}${string}`]: Method;
};

export type TrainingSetsClient = ReturnType<typeof createClient>;

/**
 * One method per route, named by its operationId, and methods built on one route named after it
 * (see client/index.ts).
 */
export function createClient(options: ClientOptions = {}) {
  const { baseUrl, http, attempt, retried, unwrap } = createTransport(options);
  const idempotencyKey = (call: WriteOptions) => ({ "Idempotency-Key": call.idempotencyKey ?? randomUUID() });

  async function getSets(query: operations["listSet"]["parameters"]["query"]) {
    return unwrap(await retried("GET", SETS_PATH, (signal) => http.GET(SETS_PATH, { params: { query }, signal })));
  }

  async function getTaskImages(query: operations["getImages"]["parameters"]["query"]) {
    return unwrap(await retried("GET", IMAGES_PATH, (signal) => http.GET(IMAGES_PATH, { params: { query }, signal })));
  }

  const paging = (page: PageOptions) => ({
    ...(page.limit === undefined ? {} : { limit: page.limit }),
    ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
  });

  /** ListSet (GET /training/tasks/sets) with set_type_id: one page of a set. */
  async function listSet(taskId: string, set: SetName | SetTypeId, page: PageOptions = {}): Promise<SetPage> {
    const setTypeId = String(typeof set === "number" ? set : SET_TYPE_IDS[set]) as "0" | "1" | "2";
    const body = await getSets({ task_id: taskId, set_type_id: setTypeId, ...paging(page) });
    if (!("img_info_list" in body)) throw unexpected("a set page", body);
    return body;
  }

  /** GetImages (GET /training/tasks/images) without img_id: one page of the task's images. */
  async function getImages(taskId: string, page: PageOptions = {}): Promise<ImagePage> {
    const body = await getTaskImages({ task_id: taskId, ...paging(page) });
    if (!("img_info_list" in body)) throw unexpected("a page of images", body);
    return body;
  }

  /** Built on ListSet: every page of a set, first to last, following next_cursor. */
  const listSetPages = (taskId: string, set: SetName | SetTypeId, options: ListOptions = {}) =>
    pagesOf((page) => listSet(taskId, set, page), options);

  /** Built on GetImages: every page of the task's images, first to last, following next_cursor. */
  const getImagesPages = (taskId: string, options: ListOptions = {}) =>
    pagesOf((page) => getImages(taskId, page), options);

  return {
    baseUrl,

    /**
     * RegisterImages (POST /training/tasks/images): register (upsert) up to 1000 images. Retried
     * with one Idempotency-Key (a fresh one per call unless `idempotencyKey` is given).
     */
    async registerImages(request: RegisterRequest, call: WriteOptions = {}): Promise<RegisterResponse> {
      const headers = idempotencyKey(call);
      return unwrap(
        await retried("POST", IMAGES_PATH, (signal) => http.POST(IMAGES_PATH, { body: request, headers, signal })),
      );
    },

    /**
     * SplitTask (PUT /training/tasks/sets): split a task at random. Retried with one
     * Idempotency-Key (a fresh one per call unless `idempotencyKey` is given), so a retry never
     * splits twice; 1008 is not retried.
     */
    async splitTask(request: SplitRequest, call: WriteOptions = {}): Promise<SplitResponse> {
      const headers = idempotencyKey(call);
      return unwrap(
        await retried("PUT", SETS_PATH, (signal) => http.PUT(SETS_PATH, { body: request, headers, signal })),
      );
    },

    listSet,

    /** ListSet (GET /training/tasks/sets) without set_type_id: the live split and its history. */
    async listSetSummary(taskId: string): Promise<TaskSummary> {
      const body = await getSets({ task_id: taskId });
      if (!("history" in body)) throw unexpected("a task summary", body);
      return body;
    },

    listSetPages,

    /**
     * Built on ListSet: every image of a set, in ascending order_id, page by page. A 1015 (the
     * split was re-made and the cursor's snapshot is gone) throws: the caller decides whether to
     * start again.
     */
    listSetAll: (taskId: string, set: SetName | SetTypeId, options: ListOptions = {}): AsyncGenerator<ImageInfo> =>
      itemsOf(listSetPages(taskId, set, options)),

    getImages,

    /**
     * GetImages (GET /training/tasks/images) with img_id: one image and its set in the live split
     * (1026 when unknown or deleted).
     */
    async getImagesById(taskId: string, imgId: string): Promise<Image> {
      const body = await getTaskImages({ task_id: taskId, img_id: imgId });
      if (!("image" in body)) throw unexpected("an image", body);
      return body.image;
    },

    getImagesPages,

    /**
     * Built on GetImages: every image of the task (deleted ones left out), in ascending order_id,
     * page by page. A 1015 (the cursor's split is no longer retained) throws: the caller decides
     * whether to start again.
     */
    getImagesAll: (taskId: string, options: ListOptions = {}): AsyncGenerator<Image> =>
      itemsOf(getImagesPages(taskId, options)),

    /**
     * DeleteImages (DELETE /training/tasks/images): delete (logically) up to 1000 images of a
     * task. With DELETE_TAKES_IDEMPOTENCY_KEY, retried with one Idempotency-Key like a PUT or POST;
     * without, sent once: never retried.
     */
    async deleteImages(request: DeleteRequest, call: WriteOptions = {}): Promise<DeleteResponse> {
      if (!DELETE_TAKES_IDEMPOTENCY_KEY) {
        return unwrap(
          await attempt("DELETE", IMAGES_PATH, (signal) => http.DELETE(IMAGES_PATH, { body: request, signal })),
        );
      }
      const headers = idempotencyKey(call);
      return unwrap(
        await retried("DELETE", IMAGES_PATH, (signal) => http.DELETE(IMAGES_PATH, { body: request, headers, signal })),
      );
    },

    /**
     * SetSchedule (PUT /training/tasks/schedule): create or replace the task's schedule of
     * re-splits. Retried on 503 (the same PUT completes a schedule left pending, and writes nothing
     * once stored).
     */
    async setSchedule(request: ScheduleRequest): Promise<ScheduleAnswer> {
      return unwrap(
        await retried("PUT", SCHEDULE_PATH, (signal) => http.PUT(SCHEDULE_PATH, { body: request, signal })),
      );
    },

    /**
     * GetSchedule (GET /training/tasks/schedule): the task's schedule, its next run and its last
     * 20 runs (1029 without one).
     */
    async getSchedule(taskId: string): Promise<ScheduleAnswer> {
      const query = { task_id: taskId };
      return unwrap(
        await retried("GET", SCHEDULE_PATH, (signal) => http.GET(SCHEDULE_PATH, { params: { query }, signal })),
      );
    },

    /**
     * DeleteSchedule (DELETE /training/tasks/schedule): stop and remove the task's schedule
     * (`deleted: false` when there was none).
     */
    async deleteSchedule(taskId: string): Promise<ScheduleDeleted> {
      const query = { task_id: taskId };
      return unwrap(
        await retried("DELETE", SCHEDULE_PATH, (signal) => http.DELETE(SCHEDULE_PATH, { params: { query }, signal })),
      );
    },
  } satisfies ClientShape;
}
