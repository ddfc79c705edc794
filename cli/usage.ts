/** Bad usage: a bad option, file or value. The CLI prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
