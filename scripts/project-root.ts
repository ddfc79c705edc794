import { fileURLToPath } from "node:url";

/** The repository root: entries, the lock file, the bundling root and the docs are resolved from it. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
