/**
 * A fault-injecting loopback proxy in front of DynamoDB Local, speaking the DynamoDB JSON wire
 * protocol. It sits on the network path rather than in the SDK, so the SDK's own retry loop,
 * error classification and connection handling all run exactly as they would against AWS, and it
 * serves the store in a test and the Lambda handlers alike (they only know DYNAMODB_ENDPOINT).
 * Every call it lets through is answered by the real DynamoDB Local; nothing is mocked.
 *
 * It is the one fault tool: wire faults (policies: throttles, errors, cancelled transactions,
 * unprocessed batch items, dropped requests or answers, delays, held calls), process death
 * (kill), index lag, with `conflicts` DynamoDB's transaction conflicts, and with `capacity`
 * DynamoDB's per-partition limits (test/support/capacity-model/). The policy decides first; a
 * call it lets through is then checked for conflicts (a refused call is not charged), then charged
 * by the capacity model.
 *
 * For a test writer: faults.ts (what a policy answers, deferred, seededRandom), calls.ts (what a
 * call does: isWrite, imageWrites, chunkWrites, isPublish), proxy.ts (the proxy a test holds),
 * use-fault-proxy.ts (one proxy per test file). Inside: server.ts (logging and the policy's
 * faults), forward.ts (everything after the policy), conflicts.ts, writes.ts and reads.ts (the
 * capacity model applied to calls), index-lag.ts, reshape.ts (requests and answers reshaped),
 * answers.ts (the proxy's own answers), upstream.ts (DynamoDB Local).
 */

export { type Call, chunkWrites, imageWrites, isPublish, isWrite } from "./calls.ts";
export { DEFAULT_CONFLICT_HOLD_MS } from "./conflicts.ts";
export { deferred, type Fault, type Policy, seededRandom } from "./faults.ts";
export type { FaultProxy, LoggedCall } from "./proxy.ts";
export { startFaultProxy } from "./server.ts";
export { useFaultProxy } from "./use-fault-proxy.ts";
