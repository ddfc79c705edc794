/**
 * Registration's time and units: `n` images registered through the store in requests of 1,000,
 * through a proxy whose limits are unreachable (it only counts units). Returns a row for bench/run.ts.
 */
import type { StoreConfig } from "../lib/config.ts";
import { createStore } from "../lib/store/index.ts";
import { startFaultProxy } from "../test/support/fault-proxy/index.ts";
import { sizeName } from "./report.ts";
import { imageIdOf, type Measure, timed } from "./support.ts";

export async function benchRegistration(config: StoreConfig, endpoint: string, n: number): Promise<Measure> {
  const proxy = await startFaultProxy(endpoint, {
    capacity: { writeUnitsPerSecond: 1e12, readUnitsPerSecond: 1e12 },
  });
  try {
    const store = createStore({ ...config, endpoint: proxy.endpoint });
    const taskId = `register-${n}`;
    const capacity = proxy.capacity!;
    capacity.reset();
    const ms = await timed(async () => {
      for (let start = 1; start <= n; start += 1000) {
        const images = [];
        for (let i = start; i < Math.min(n + 1, start + 1000); i++)
          images.push({ imgId: imageIdOf(i), imgName: `img_${i}.jpg`, state: 0 });
        await store.registerImages({ taskId, images });
      }
    });
    const used = capacity.consumed();
    const task = await store.readTask(taskId);
    if (task?.imageCount !== n) throw new Error(`registered ${task?.imageCount}, expected ${n}`);
    return {
      name: `register ${sizeName(n)} images (requests of 1,000)`,
      value: ms,
      unit: "ms",
      writeUnits: used.writeUnits,
      readUnits: used.readUnits,
      note: `${(used.writeUnits / n).toFixed(2)} WRU an image; no limits applied (time includes the proxy's bookkeeping); ${Math.round((n * 1000) / ms)} images/s`,
    };
  } finally {
    await proxy.close();
  }
}
