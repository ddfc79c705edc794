/** A context setting the stack cannot be built with: `cdk synth` prints its one line, without a stack trace. */
export class SettingError extends Error {
  override name = "SettingError";
}
