import { App } from "aws-cdk-lib";
import { addTrainingSetsStack } from "./training-sets-stack.ts";

const app = new App();
addTrainingSetsStack(app);
app.synth();
