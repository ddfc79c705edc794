/** Bad usage: a bad option, file or value. The CLI prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A command that could not do its work for a reason the API's answer alone does not say. Exit 1. */
export class CommandError extends Error {
  override readonly name = "CommandError";
}
