import { afterAll, afterEach, beforeAll, inject } from "vitest";
import type { FaultProxy, FaultProxyOptions } from "./proxy.ts";
import { startFaultProxy } from "./server.ts";

/**
 * One proxy for a vitest file, in front of the suite's DynamoDB Local: started in beforeAll, its
 * policy, index lag and capacity (counters and buckets) reset after each test, closed in afterAll.
 * Call at the top of a file or describe block; the accessor works inside tests and hooks.
 */
export function useFaultProxy(options: FaultProxyOptions = {}): () => FaultProxy {
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    proxy = await startFaultProxy(inject("dynamoEndpoint"), options);
  });
  afterEach(() => {
    proxy?.reset();
    proxy?.capacity?.reset();
  });
  afterAll(async () => {
    await proxy?.close();
  });
  return () => {
    if (!proxy) throw new Error("useFaultProxy: the proxy starts in beforeAll");
    return proxy;
  };
}
