import { App } from "aws-cdk-lib";
import { addTrainingSetsStack } from "./build-app.ts";

const app = new App();
addTrainingSetsStack(app);
app.synth();
