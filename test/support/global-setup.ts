import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../../scripts/dynamodb-local.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** One in-memory DynamoDB Local for the whole run; each test file makes its own tables. */
export default async function setup(project: TestProject) {
  const db = await startDynamoDbLocal({ inMemory: true });
  project.provide("dynamoEndpoint", db.endpoint);
  return async () => db.stop();
}
