import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { FUNCTIONS, type FunctionName, timeoutSeconds } from "../lib/routes.ts";
import { PROJECT_ROOT } from "./project-root.ts";

const root = PROJECT_ROOT;

export type AnyHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The function called `name` (its CloudFormation logical id too), or undefined. */
export const findFunction = (name: string) => FUNCTIONS.find((fn) => fn.name === name);

/** Imports a function's handler; call after the environment (TABLE_NAME, DYNAMODB_ENDPOINT) is set. */
export async function loadHandler(name: FunctionName): Promise<AnyHandler> {
  const fn = findFunction(name);
  if (!fn) throw new Error(`no function ${name}`);
  const module = (await import(pathToFileURL(resolve(root, fn.entry)).href)) as { handler: AnyHandler };
  return module.handler;
}

/** A Lambda context as the runtime passes it, with the function's own timeout. */
export function lambdaContext(name: FunctionName, requestId: string = randomUUID()): Context {
  const fn = findFunction(name);
  const deadline = Date.now() + (fn ? timeoutSeconds(fn) : 29) * 1000;
  return {
    awsRequestId: requestId,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: "1024",
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
