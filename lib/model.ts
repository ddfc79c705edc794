/** Set types, numbered as the seed numbers them. */
export const SET_TYPES = [0, 1, 2] as const;
export type SetType = (typeof SET_TYPES)[number];
export const TRAINING = 0;
export const TESTING = 1;
export const VERIFYING = 2;

/** How many images each set gets, indexed by set type. */
export type SetSizes = Record<SetType, number>;

export interface SplitRequest {
  taskId: string;
  /** Requested sizes by set type: 0 training, 1 testing, 2 verifying. */
  counts: SetSizes;
  /** Caller's seed, normalised to a string; absent when the service should draw one. */
  seed: string | undefined;
}

export interface ImageInput {
  imgId: string;
  imgName: string;
  state: number;
}

export interface RegisterRequest {
  taskId: string;
  images: ImageInput[];
}

/** Where a paged listing stopped: enough to resume the same version of the same set. */
export interface Cursor {
  taskId: string;
  setType: SetType;
  version: number;
  slot: Slot;
  /** How many images of the set came before this point (earlier pages). */
  position: number;
  orderId: number;
  imgId: string;
}

export interface ListQuery {
  taskId: string;
  setType: SetType;
  limit: number;
  cursor: Cursor | undefined;
}

/** The two assignment slots of every image; one is live, the other is written by the next split. */
export type Slot = "a" | "b";

export interface ImageInfo {
  img_name: string;
  img_id: string;
  state: number;
  order_id: number;
}

export interface SplitResult {
  taskId: string;
  /** Image ids of each set in the order they were drawn. */
  drawn: Record<SetType, string[]>;
  unassignedCount: number;
  seed: string;
  version: number;
}

export interface SetPage {
  taskId: string;
  images: ImageInfo[];
  nextCursor: Cursor | undefined;
}

export interface RegisterResult {
  taskId: string;
  added: number;
  updated: number;
  total: number;
}

export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 5_000;
export const MAX_IMAGES_PER_REQUEST = 1_000;
export const MAX_BODY_BYTES = 1024 * 1024;
