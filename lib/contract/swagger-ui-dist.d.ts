/** The two files of swagger-ui-dist the docs page loads, imported as text (`with { type: "text" }`, docs-page.ts). */
declare module "swagger-ui-dist/swagger-ui.css" {
  const text: string;
  export default text;
}
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const text: string;
  export default text;
}
