/**
 * How every function is bundled for Lambda, in one place: the stack hands it to NodejsFunction,
 * the bench to esbuild, so the bundle the bench measures is the one that is deployed.
 */
export const BUNDLING = {
  format: "esm",
  minify: true,
  sourceMap: true,
  target: "node24",
  // Lambda's Node.js runtime ships AWS SDK v3; bundling it would only grow cold starts.
  externalModules: ["@aws-sdk/*"],
  mainFields: ["module", "main"],
  // ESM bundles have no `require`; CommonJS dependencies bundled in still call it.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;
