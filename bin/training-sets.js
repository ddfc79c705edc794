#!/usr/bin/env node
// The `training-sets` command (package.json "bin"). The CLI is TypeScript (cli/main.ts); this shim
// registers tsx's loader in this process and imports it, so no build step is needed. tsx is a
// devDependency: the command works inside this repository after `npm ci` (`npx training-sets …`).
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
