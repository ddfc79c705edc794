import { App, RemovalPolicy } from "aws-cdk-lib";
import { TrainingSetsStack } from "./training-sets-stack.ts";

const PREFIX = "training-sets:";

/**
 * Reads the stack options from CDK context (cdk.json, or `-c key=value` on the command line, where
 * every value arrives as a string) and fails the synth on a value it does not understand.
 */
function readOptions(app: App) {
  const get = (name: string): unknown => app.node.tryGetContext(PREFIX + name);

  const positive = (name: string, fallback: number): number => {
    const raw = get(name);
    if (raw === undefined || raw === "") return fallback;
    const value = typeof raw === "number" ? raw : Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${PREFIX}${name} must be a positive number, got ${JSON.stringify(raw)}`);
    return value;
  };

  const removal = String(get("removalPolicy") ?? "retain").toLowerCase();
  if (removal !== "retain" && removal !== "destroy") {
    throw new Error(`${PREFIX}removalPolicy must be "retain" or "destroy", got ${JSON.stringify(removal)}`);
  }

  let origins = get("corsOrigins") ?? [];
  if (typeof origins === "string") {
    origins = origins.trim().startsWith("[") ? JSON.parse(origins) : origins.split(",");
  }
  if (!Array.isArray(origins) || !origins.every((origin) => typeof origin === "string")) {
    throw new Error(`${PREFIX}corsOrigins must be a list of origins, got ${JSON.stringify(origins)}`);
  }

  return {
    removalPolicy: removal === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    throttleRateLimit: positive("throttleRateLimit", 100),
    throttleBurstLimit: Math.floor(positive("throttleBurstLimit", 200)),
    corsOrigins: (origins as string[]).map((origin) => origin.trim()).filter((origin) => origin !== ""),
  } as const;
}

const app = new App();
// Environment-agnostic (no `env`): synth needs no account, region or credentials.
new TrainingSetsStack(app, "TrainingSetsStack", {
  stackName: "TrainingSets",
  description: "training-sets: random training/verifying/testing split of a task's images",
  ...readOptions(app),
});
app.synth();
