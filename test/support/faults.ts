import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { localClient } from "./store.ts";

/**
 * A DynamoDB client whose calls pass through a fault switch (an SDK middleware, so the real
 * DynamoDB Local still answers every call that is let through).
 */
export function faultyClient() {
  const client: DynamoDBClient = localClient();
  const calls: Record<string, number> = {};
  let crashAfter: { command: string; count: number } | undefined;
  let crashed = false;
  let pause: { command: string; until: Promise<void> } | undefined;

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "";
      calls[command] = (calls[command] ?? 0) + 1;
      if (crashed) throw new Error(`injected: process is dead (${command})`);
      if (crashAfter && command === crashAfter.command && calls[command] > crashAfter.count) {
        crashed = true;
        throw new Error(`injected: died at ${command} #${calls[command]}`);
      }
      if (pause && command === pause.command) await pause.until;
      return next(args);
    },
    { step: "initialize", name: "faultInjection" },
  );

  return {
    client,
    calls,
    /** After `count` successful calls of `command`, that call and every later one fails: the process died. */
    crashAfter(command: string, count: number) {
      crashAfter = { command, count };
    },
    /** Holds every call of `command` until `until` settles. */
    pauseAt(command: string, until: Promise<void>) {
      pause = { command, until };
    },
    get crashed() {
      return crashed;
    },
  };
}
