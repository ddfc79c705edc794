import { TESTING, TRAINING, VERIFYING } from "../../model.ts";
import type { PlanColumns, PlanImage } from "./types.ts";

/** The columns of `images`, labels and groups numbered in order of first appearance. */
export function columnsOf(images: readonly PlanImage[]): PlanColumns {
  const n = images.length;
  const ids = new Array<string>(n);
  const orderIds = new Array<number>(n);
  const labelOf = new Int32Array(n);
  const groupOf = new Int32Array(n);
  const labels = new Map<string, number>();
  const groups = new Map<string, number>();
  let current: Int8Array | undefined;
  for (let i = 0; i < n; i++) {
    const image = images[i] as PlanImage;
    ids[i] = image.imgId;
    orderIds[i] = image.orderId;
    labelOf[i] = numberOf(labels, image.label);
    groupOf[i] = numberOf(groups, image.group);
    if (image.current === undefined) continue;
    if (image.current !== TRAINING && image.current !== TESTING && image.current !== VERIFYING) {
      throw new Error(`planSplit: current set of ${image.imgId} is not a set type: ${String(image.current)}`);
    }
    current ??= new Int8Array(n).fill(-1);
    current[i] = image.current;
  }
  return { ids, orderIds, labelOf, labels: [...labels.keys()], groupOf, groups: [...groups.keys()], current };
}

function numberOf(numbers: Map<string, number>, name: string | undefined): number {
  if (name === undefined) return -1;
  let k = numbers.get(name);
  if (k === undefined) {
    k = numbers.size;
    numbers.set(name, k);
  }
  return k;
}

/**
 * Throws a plain Error (a caller bug) for columns of different lengths, an order_id that is not a
 * finite number, a label or group number outside its list, or a current set that is no set type.
 */
export function checkColumns(columns: PlanColumns): void {
  const { ids, orderIds, labelOf, labels, groupOf, groups, current } = columns;
  const n = ids.length;
  if (orderIds.length !== n || labelOf.length !== n || groupOf.length !== n || (current && current.length !== n)) {
    throw new Error(`planSplit: columns of ${n} images differ in length`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(orderIds[i]))
      throw new Error(`planSplit: order_id of ${ids[i]} is not a number: ${orderIds[i]}`);
    if (labelOf[i]! < -1 || labelOf[i]! >= labels.length)
      throw new Error(`planSplit: label of ${ids[i]} is not listed`);
    if (groupOf[i]! < -1 || groupOf[i]! >= groups.length)
      throw new Error(`planSplit: group of ${ids[i]} is not listed`);
    if (current && (current[i]! < -1 || current[i]! > 2)) {
      throw new Error(`planSplit: current set of ${ids[i]} is not a set type: ${current[i]}`);
    }
  }
}
