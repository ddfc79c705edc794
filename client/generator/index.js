// openapi-typescript, resolved from this package's own node_modules, where the TypeScript 5 whose
// compiler API it uses lives (the project itself compiles with TypeScript 7, which has no JS API).
export { astToString, default } from "openapi-typescript";
