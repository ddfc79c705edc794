import { App } from "aws-cdk-lib";
import { addTrainingSetsStack } from "./build-app.ts";
import { SettingError } from "./setting-error.ts";

try {
  const app = new App();
  addTrainingSetsStack(app);
  app.synth();
} catch (error) {
  if (!(error instanceof SettingError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
