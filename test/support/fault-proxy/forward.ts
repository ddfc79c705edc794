import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { CapacityModel, Item, Json } from "../capacity-model/index.ts";
import { drop, send } from "./answers.ts";
import { type Call, imageWrites, isWrite } from "./calls.ts";
import type { ConflictCheck, Conflicts } from "./conflicts.ts";
import type { Fault } from "./faults.ts";
import type { IndexLag } from "./index-lag.ts";
import { type FaultProxy, type LoggedCall, markDone } from "./proxy.ts";
import { admitRead, finishRead, planRead, settleRead } from "./reads.ts";
import { keepFirstRequests, mergeUnprocessed } from "./reshape.ts";
import type { Upstream, UpstreamAnswer } from "./upstream.ts";
import {
  admitWrites,
  afterImages,
  readBeforeImages,
  refusalBeforeReading,
  settleWrites,
  writeTargets,
} from "./writes.ts";

/** What one proxy keeps across calls. */
export interface ProxyState {
  /** The settings a test changes as it goes (indexLagMs, holdTransaction). */
  readonly proxy: FaultProxy;
  readonly upstream: Upstream;
  readonly model: CapacityModel | undefined;
  readonly conflicts: Conflicts | undefined;
  readonly lag: IndexLag;
  readonly now: () => number;
  /** 2xx answers per operation. */
  readonly completed: Map<string, number>;
  imagesWritten: number;
  dead: boolean;
}

/**
 * Sends a call the policy let through on to DynamoDB Local and answers it: the `unprocessed` fault
 * applied, admitted by the capacity model (writes, then reads), held while it is a transaction in
 * flight, then charged its actual cost, its index entries lagged, and answered (or its answer
 * dropped).
 */
export async function forwardCall(
  state: ProxyState,
  request: IncomingMessage,
  response: ServerResponse,
  call: Call,
  raw: Buffer,
  entry: LoggedCall,
  fault: Fault,
  conflict: ConflictCheck | undefined,
): Promise<void> {
  const { operation, input } = call;
  const { model, upstream } = state;
  let body: Json = input;
  let unprocessed: Json | undefined;
  if (fault.kind === "unprocessed" && (operation === "BatchWriteItem" || operation === "BatchGetItem"))
    ({ body, unprocessed } = keepFirstRequests(operation, input, fault.keep));
  const nothingLeft = body.RequestItems !== undefined && Object.keys(body.RequestItems as Json).length === 0;
  const lagOn = state.proxy.indexLagMs > 0;
  const refuse = (refusal: Json) => {
    markDone(entry, 400);
    send(response, 400, refusal);
  };

  const targets =
    (model || lagOn) && isWrite(operation) && !nothingLeft
      ? await writeTargets(upstream, request, operation, body)
      : undefined;
  if (model && targets) {
    const refusal = refusalBeforeReading(model, operation, targets);
    if (refusal) return refuse(refusal);
  }
  if (targets) await readBeforeImages(upstream, request, targets);
  if (model && targets) {
    const admission = admitWrites(model, operation, targets, body, unprocessed);
    if (admission.refusal) return refuse(admission.refusal);
    ({ body, unprocessed } = admission);
  }

  const readPlan = !nothingLeft
    ? await planRead(upstream, request, operation, body, model !== undefined, lagOn)
    : undefined;
  if (model && readPlan) {
    const admission = admitRead(model, readPlan, body, unprocessed);
    if (admission.refusal) return refuse(admission.refusal);
    unprocessed = admission.unprocessed;
  }
  if (readPlan?.changed || (readPlan && operation === "BatchGetItem")) body = readPlan.body;

  let output: Json | undefined;
  let status = 200;
  let answer: UpstreamAnswer | undefined;
  if (nothingLeft) {
    output = operation === "BatchGetItem" ? { Responses: {} } : {};
  } else {
    if (conflict?.holding) {
      const holdMs = state.conflicts?.holdMs ?? 0;
      if (holdMs > 0) await sleep(holdMs);
      await state.proxy.holdTransaction?.(call)?.catch(() => undefined);
    }
    answer = await upstream.send(request, body === input ? raw : Buffer.from(JSON.stringify(body)));
    conflict?.release();
    status = answer.status;
  }
  const now = state.now();
  if (status < 300) {
    state.completed.set(operation, (state.completed.get(operation) ?? 0) + 1);
    state.imagesWritten += imageWrites({ operation, input: body }).imgIds.length;
  }
  const parsed = (): Json => (output ??= JSON.parse(answer?.body.toString("utf8") || "{}") as Json);

  if (targets) {
    const after = await afterImages(
      upstream,
      request,
      targets.filter((t) => t.admitted),
      status < 300,
    );
    if (model) settleWrites(model, after, status, status < 300 ? "" : String(parsed().__type ?? ""));
    if (lagOn && status < 300) state.lag.recordWrites(after, now);
  }

  let reshaped = body !== input;
  if (readPlan) {
    const out = status < 300 ? parsed() : undefined;
    settleRead(model, readPlan, out, status < 300);
    if (out && readPlan.changed) reshaped = true;
    if (out && operation === "Query" && readPlan.index && lagOn) {
      const visible = state.lag.visible(readPlan, (out.Items ?? []) as Item[], now, state.proxy.indexLagMs);
      out.Items = visible;
      out.Count = visible.length;
      reshaped = true;
    }
    if (out && readPlan.changed) finishRead(readPlan, out);
  }

  if (state.dead || fault.kind === "dropAnswer") {
    if (fault.kind === "dropAnswer" && fault.thenDie) state.dead = true;
    entry.fault = state.dead && fault.kind !== "dropAnswer" ? "dead" : fault.kind;
    markDone(entry, undefined);
    return drop(request);
  }
  if (answer && !unprocessed && !reshaped) {
    markDone(entry, answer.status);
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body);
    return;
  }
  let result = parsed();
  if (status < 300 && unprocessed) result = mergeUnprocessed(result, unprocessed);
  markDone(entry, status);
  send(response, status, result);
}
