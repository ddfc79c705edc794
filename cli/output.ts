import { createReadStream } from "node:fs";
import { mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";

/**
 * A file written through a temporary one: the text reaches `target` (or stdout) only on `commit`,
 * so a failure leaves no partial file. The temporary file sits in the target's folder, so the
 * final rename is atomic.
 */
export interface Output {
  write(text: string): Promise<void>;
  /** Starts the text over (the temporary file emptied). */
  restart(): Promise<void>;
  /** Moves the text to the target (or copies it to stdout) and removes the temporary file. */
  commit(): Promise<void>;
  /** Removes the temporary file; the target is untouched. */
  discard(): Promise<void>;
}

/** An Output to `target`, or to stdout when `target` is undefined. */
export async function openOutput(target: string | undefined): Promise<Output> {
  const path = target === undefined ? undefined : resolve(target);
  const dir = path ? dirname(path) : await mkdtemp(join(tmpdir(), "training-sets-"));
  const temp = join(dir, path ? `.${basename(path)}.${process.pid}.tmp` : "output.tmp");
  let file = await open(temp, "w");
  const cleanUp = () => rm(path ? temp : dir, { recursive: true, force: true });
  return {
    write: async (text) => {
      if (text !== "") await file.write(text);
    },
    async restart() {
      await file.close();
      file = await open(temp, "w");
    },
    async commit() {
      await file.close();
      try {
        if (path) await rename(temp, path);
        else await pipeline(createReadStream(temp), process.stdout, { end: false });
      } finally {
        await cleanUp();
      }
    },
    async discard() {
      await file.close().catch(() => {});
      await cleanUp();
    },
  };
}
