import { type Item, indexEntry, keyOf } from "../capacity-model/index.ts";
import type { ReadPlan } from "./reads.ts";
import type { WriteTarget } from "./writes.ts";

/**
 * Index lag (DynamoDB's GSIs are eventually consistent; DynamoDB Local's are instant): an index
 * entry that a write through the proxy creates or moves shows up in Queries of that index only
 * `lagMs` after the write was answered; entries the write left alone stay visible.
 */
export interface IndexLag {
  /** Notes when each index entry an answered write created or moved appeared. */
  recordWrites(after: Map<WriteTarget, Item | undefined>, now: number): void;
  /** The items of a Query page whose index entries are visible at `now`. */
  visible(plan: ReadPlan, items: Item[], now: number, lagMs: number): Item[];
}

export function trackIndexLag(): IndexLag {
  /** When an index entry (table, index, item key, entry key) was created or moved through the proxy. */
  const enteredAt = new Map<string, number>();
  const lagKey = (table: string, index: string, item: string, entry: string) =>
    `${table}\u0000${index}\u0000${item}\u0000${entry}`;

  return {
    recordWrites(after, now) {
      for (const [t, image] of after) {
        if (t.kind === "check") continue;
        for (const index of t.schema.indexes) {
          const old = indexEntry(t.schema, index, t.before);
          const fresh = indexEntry(t.schema, index, image);
          if (fresh && old?.key !== fresh.key)
            enteredAt.set(lagKey(t.table, index.name, keyOf(t.schema, t.key), fresh.key), now);
        }
      }
    },
    visible(plan, items, now, lagMs) {
      const { schema, index } = plan;
      if (!schema || !index) return items;
      return items.filter((item) => {
        const fresh = indexEntry(schema, index, item);
        const at = fresh ? enteredAt.get(lagKey(plan.table, index.name, keyOf(schema, item), fresh.key)) : undefined;
        return at === undefined || now - at >= lagMs;
      });
    },
  };
}
