import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateSchema, SCHEMA_FILE } from "../../client/generate.ts";

describe("client/schema.ts", () => {
  it("is what `npm run generate:client` writes for the current OpenAPI document (rerun it when this fails)", async () => {
    // Act
    const fresh = await generateSchema();

    // Assert
    expect(readFileSync(SCHEMA_FILE, "utf8") === fresh, "client/schema.ts is stale: run npm run generate:client").toBe(
      true,
    );
  });
});
