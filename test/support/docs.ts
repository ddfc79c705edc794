import { readFileSync } from "node:fs";

const OPERATIONS = new URL("../../docs/operations.md", import.meta.url);

/** Lines of docs/operations.md's shell blocks that match `pattern` (anchored), with their groups. */
function commands(pattern: RegExp): RegExpMatchArray[] {
  const text = readFileSync(OPERATIONS, "utf8");
  const blocks = [...text.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((match) => match[1] ?? "");
  return blocks
    .flatMap((block) => block.split("\n"))
    .map((line) => line.trim().match(pattern))
    .filter((match): match is RegExpMatchArray => match !== null);
}

/** docs/operations.md's `npm run invoke -- <function> <event-file>` lines, in order. */
export const invokeLines = () =>
  commands(/^npm run invoke -- (\S+) (\S+)$/).map(([line, name, event]) => ({
    line,
    name: name ?? "",
    event: event ?? "",
  }));

/** docs/operations.md's `sam local invoke -t <template> <logical id> -e <event-file>` lines, in order. */
export const samLines = () =>
  commands(/^sam local invoke -t (\S+) (\S+) -e (\S+)$/).map(([line, template, logicalId, event]) => ({
    line,
    template: template ?? "",
    logicalId: logicalId ?? "",
    event: event ?? "",
  }));
