/** Set types, numbered as the legacy API numbers them. */
export const SET_TYPES = [0, 1, 2] as const;
export type SetType = (typeof SET_TYPES)[number];
export const TRAINING = 0;
export const TESTING = 1;
export const VERIFYING = 2;

/** How many images each set gets, indexed by set type. */
export type SetSizes = Record<SetType, number>;

/** Fractions of the task's images per set type (each in [0, 1], training > 0, sum ≤ 1). */
export type SetRatios = Record<SetType, number>;

/**
 * How big the sets should be: exact counts (the legacy API's request), or ratios of the task's images
 * (resolved to counts by largest remainder once the images are known). Exactly one is given.
 */
export type SplitSizes = { counts: SetSizes; ratios?: undefined } | { counts?: undefined; ratios: SetRatios };

/** Where the images of a label too small to appear in every set go (`rare_labels`). */
export const RARE_LABEL_POLICIES = ["training", "random", "error"] as const;
export type RareLabelPolicy = (typeof RARE_LABEL_POLICIES)[number];

/** `fresh`: the legacy API's behaviour, every image drawn anew; `keep`: assigned images stay, only unassigned ones are distributed. */
export const SPLIT_MODES = ["fresh", "keep"] as const;
type SplitMode = (typeof SPLIT_MODES)[number];

/** The optional fields of PUT /training/tasks/sets beyond the legacy API's, with their defaults filled in. */
export interface SplitOptions {
  /** `stratify_by`: "label" gives each set each label in proportion. */
  stratifyBy: "label" | undefined;
  /** `group_by`: "group" keeps all images of a group in one set. */
  groupBy: "group" | undefined;
  /** `rare_labels` (default "training"). */
  rareLabels: RareLabelPolicy;
  /** `mode` (default "fresh"). */
  mode: SplitMode;
  /** `lock_testing`: a fresh re-split keeps the current testing set exactly. */
  lockTesting: boolean;
  /** `dry_run`: compute and answer the split, write nothing. */
  dryRun: boolean;
  /** `algorithm`: the seeded planning algorithm (default and, so far, only: "v1"); recorded with the split. */
  algorithm: string;
}

export const DEFAULT_SPLIT_OPTIONS: Readonly<SplitOptions> = Object.freeze({
  stratifyBy: undefined,
  groupBy: undefined,
  rareLabels: "training",
  mode: "fresh",
  lockTesting: false,
  dryRun: false,
  algorithm: "v1",
});

/**
 * Everything a PUT /training/tasks/sets may ask for: sizes as counts (the legacy request) or as
 * ratios (`spec.counts === undefined` tells the ratios form), by set type (0 training, 1 testing,
 * 2 verifying).
 */
export type SplitSpec = SplitSizes & {
  taskId: string;
  /** Caller's seed, normalised to a string; absent when the service should draw one. */
  seed: string | undefined;
  /** Present as soon as the body carries any optional field, with the defaults filled in. */
  options?: SplitOptions;
};

export interface ImageInput {
  imgId: string;
  imgName: string;
  /** Absent when the request left it out: a new image starts at 0, a known one keeps its state. */
  state?: number;
  /** Optional class label (stratify_by "label"); absent when the request gave none. */
  label?: string;
  /** Optional group (group_by "group"), e.g. a patient or a video; absent when the request gave none. */
  group?: string;
}

/** One label's images per set after a split (`label` null: the images without a label). */
export interface LabelCount {
  label: string | null;
  /** Images of this label in each set, by set type. */
  sizes: SetSizes;
  /** Images of this label in no set. */
  unassigned: number;
}

/** A label with too few images to appear in every set, and where the split put them. */
export interface RareLabel extends LabelCount {
  label: string;
}

export interface RegisterRequest {
  taskId: string;
  images: ImageInput[];
}

/** Where a paged listing stopped: enough to resume the same snapshot of the same set. */
export interface SetCursor {
  taskId: string;
  setType: SetType;
  /** The snapshot read: its version and token. */
  version: number;
  token: string;
  /** Highest order_id the snapshot covers, and the set's size in it. */
  n: number;
  size: number;
  /** Images of the set returned by earlier pages. */
  position: number;
  /** The last order_id returned. */
  after: number;
}

/**
 * What a page may weigh as an answer, in the bytes the HTTP layer counts: the listing walks on
 * until the next image would not fit (the first always does), then ends the page with a cursor.
 */
export interface PageBudget<C> {
  readonly maxBytes: number;
  /** The answer holding no image yet, with `nextCursor` (the longest the walk can end on). */
  emptyBytes(taskId: string, nextCursor: C): number;
  /** What one more image adds, its separator included. */
  imageBytes(image: object, first: boolean): number;
}

/** No limit: pages end only at their `limit` (direct store calls, tests). */
export const UNLIMITED_PAGE: PageBudget<never> = {
  maxBytes: Number.POSITIVE_INFINITY,
  emptyBytes: () => 0,
  imageBytes: () => 0,
};

export interface SetQuery {
  taskId: string;
  setType: SetType;
  limit: number;
  cursor: SetCursor | undefined;
}

/** One image as a set listing shows it (the legacy API's field names). */
export interface ImageInfo {
  img_name: string;
  img_id: string;
  state: number;
  order_id: number;
}

export interface SplitResult {
  taskId: string;
  /** Image ids of each set in the order they were drawn (empty when `idsLost`). */
  drawn: Record<SetType, string[]>;
  /** Images per set. */
  sizes: SetSizes;
  /** A replayed split whose id lists can no longer be rebuilt exactly: its answer gives the set sizes only. */
  idsLost?: true;
  unassignedCount: number;
  seed: string;
  /** The new split's version; for a dry run, the live one (0 when never split). */
  version: number;
  /** What the planner reports, its lists capped; answered only to requests that used ratios or an option. */
  details?: SplitAccount;
}

/** SplitDetails as answered and recorded: each list capped in bytes. */
export type SplitAccount = Omit<SplitDetails, "labelCounts" | "rareLabels" | "leakedGroups"> & {
  labelCounts: Capped<LabelCount>;
  rareLabels: Capped<RareLabel>;
  leakedGroups: Capped<string>;
};

/** The planner's account of a split, beyond the sets themselves. */
export interface SplitDetails {
  /** ALGORITHM_VERSION the plan was made with. */
  algorithm: string;
  /**
   * The target sizes: the counts asked for, or the ratios resolved to counts; with lock_testing,
   * testing is the locked set's size. Equal to `achieved` except with group_by, where whole
   * groups can make the achieved sizes miss.
   */
  requested: SetSizes;
  achieved: SetSizes;
  /** Images per label per set, labels in code-unit order, then `null` for the unlabelled; [] when no image has a label. */
  labelCounts: LabelCount[];
  /** The rare-label policy used, and the labels it applied to with where their images went ([] unless stratified). */
  rareLabelPolicy: RareLabelPolicy;
  rareLabels: RareLabel[];
  /** Images that were in a set (`current`) and are now in another set or in none. */
  moved: number;
  /** Images that were in no set and are now in one. */
  newlyAssigned: number;
  /** Groups with images in more than one set, in code-unit order ([] with group_by). */
  leakedGroups: string[];
  /** With lock_testing and group_by: images kept out of every set because their group is in the locked testing set. */
  heldBack: number;
  /** Planned only, nothing written. */
  dryRun: boolean;
}

/** A list kept to its first entries within a byte budget (lib/capped.ts), with how many there were. */
export interface Capped<T> {
  items: T[];
  total: number;
}

/** Which split: its version and token, its snapshot's chunk count and the highest order_id it covers. */
export interface SplitRef {
  version: number;
  /** Names this split's snapshot items apart from any other attempt at the same version. */
  token: string;
  chunks: number;
  n: number;
}

/** The live split as the task item points to it: its snapshot and its set sizes (what a listing needs). */
export interface LiveSplit extends SplitRef {
  achieved: SetSizes;
}

/**
 * A split's record: an item of its own, written before its publish and never changed, so the task
 * item stays small whatever the history. Every list in it is capped in bytes.
 */
export interface SplitRecord extends LiveSplit, Omit<SplitAccount, "dryRun"> {
  seed: string;
  splitAt: string;
  /** The sizes, or ratios, and options it was asked with (dry_run never recorded). */
  spec: SplitSizes & { options?: SplitOptions };
  unassigned: number;
  /** Digest of the img_ids the split planned over (lib/split/digest.ts), to tell whether a rebuilt answer is the same. */
  planned: string;
}

export interface TaskSummary {
  taskId: string;
  /** Images left (deleted ones not counted). */
  imageCount: number;
  /** Images deleted and not registered again. */
  deletedCount: number;
  /** Images in no set of the live split now, those registered since it included. */
  unassignedCount: number;
  live: SplitRecord | undefined;
  /** The last published splits, newest first, the live one included (at most HISTORY_LENGTH). */
  history: SplitRecord[];
}

export const HISTORY_LENGTH = 20;

export interface SetPage {
  taskId: string;
  images: ImageInfo[];
  nextCursor: SetCursor | undefined;
}

export interface RegisterResult {
  taskId: string;
  added: number;
  /** Known images whose name, state, label or group this registration changed. */
  updated: number;
  /** Known images sent again exactly as stored. */
  unchanged: number;
  total: number;
}

/** One image as the image lookup and the image listing show it: the contract's `Image`. */
export interface Image {
  img_id: string;
  img_name: string;
  state: number;
  order_id: number;
  label: string | null;
  group: string | null;
  /** The image's set in the live split (or the cursor's), null when in none. */
  set_type_id: SetType | null;
}

/** Where an image listing stopped: the snapshot it reads set_type_id from (version 0: none) and the last order_id. */
export interface ImageCursor {
  taskId: string;
  version: number;
  token: string;
  n: number;
  after: number;
}

export interface ImageQuery {
  taskId: string;
  /** Present: look one image up; absent: list the task's images. */
  imgId: string | undefined;
  limit: number;
  cursor: ImageCursor | undefined;
}

export interface ImagePage {
  taskId: string;
  images: Image[];
  nextCursor: ImageCursor | undefined;
}

export interface DeleteRequest {
  taskId: string;
  imgIds: string[];
}

export interface DeleteResult {
  taskId: string;
  deleted: number;
  alreadyDeleted: number;
  notFound: string[];
  /** Images left in the task. */
  total: number;
}

export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 5_000;
export const MAX_IMAGES_PER_REQUEST = 1_000;
export const MAX_BODY_BYTES = 1024 * 1024;
