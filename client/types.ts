import type { components } from "./schema.ts";

type Schemas = components["schemas"];
export type SplitRequest = Schemas["SplitRequest"];
export type SplitResponse = Schemas["SplitResponse"];
export type RegisterRequest = Schemas["RegisterRequest"];
export type RegisterResponse = Schemas["RegisterResponse"];
export type ImageInput = Schemas["ImageInput"];
export type ImageInfo = Schemas["ImageInfo"];
export type SetPage = Schemas["SetPage"];
export type TaskSummary = Schemas["TaskSummary"];
/** A split as the summary describes it: version, seed, algorithm, time, sizes. */
export type SplitRecord = Schemas["SplitRecord"];
/** One image of a task, as the images GET answers it (its set in the live split, or null). */
export type Image = Schemas["Image"];
export type ImageAnswer = Schemas["ImageAnswer"];
export type ImagePage = Schemas["ImagePage"];
export type DeleteRequest = Schemas["DeleteRequest"];
export type DeleteResponse = Schemas["DeleteResponse"];
/** PUT /training/tasks/schedule's body: the task's schedule of re-splits. */
export type ScheduleRequest = Schemas["ScheduleRequest"];
/** The schedule as stored, its next run and (from GET) its last 20 runs. */
export type ScheduleAnswer = Schemas["ScheduleAnswer"];
export type ScheduleDeleted = Schemas["ScheduleDeleted"];
/** Every error body the document describes (Error1001 … Error1500). */
export type ErrorBody = Schemas[Extract<keyof Schemas, `Error${number}`>];
export type ErrorCode = ErrorBody["code"];

/** The API's set type ids: note that testing is 1 and verifying 2. */
export const SET_TYPE_IDS = { training: 0, testing: 1, verifying: 2 } as const;
export type SetName = keyof typeof SET_TYPE_IDS;
export type SetTypeId = (typeof SET_TYPE_IDS)[SetName];

export const DEFAULT_BASE_URL = "http://127.0.0.1:8000";

/** The DELETE's most image ids a request. */
export const MAX_IDS_PER_DELETE = 1000;

/**
 * Whether DELETE /training/tasks/images takes an Idempotency-Key (lib/routes.ts `idempotent`; a
 * test holds the two together). With one, a DELETE is retried like a PUT or POST; without, never.
 */
export const DELETE_TAKES_IDEMPOTENCY_KEY: boolean = true;

export interface WriteOptions {
  /** The Idempotency-Key to send (1–255 visible ASCII characters); default a fresh UUID per call. */
  idempotencyKey?: string;
}

export interface ListOptions {
  /** Images per page, 1–10000 (the API's default 5000). */
  limit?: number;
}

/** Where a page starts: none for the first page, else the previous page's next_cursor. */
export type PageOptions = ListOptions & { cursor?: string | undefined };
