/** Every character an id may hold, in DynamoDB's (byte) order. */
const ID_ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/**
 * The characters `ids` use, in byte order: the digits only for the platform's numeric ids. Split
 * points drawn from the full id alphabet would fall mostly between digits, where no id is, and
 * leave one range with nearly every image.
 */
export function alphabetOf(ids: Iterable<string>): string {
  const seen = new Set<string>();
  for (const id of ids) for (const char of id) seen.add(char);
  return [...ID_ALPHABET].filter((char) => seen.has(char)).join("") || ID_ALPHABET;
}

/**
 * Up to `parts - 1` ids strictly between `low` and `high`, ascending, spread evenly over the ids
 * spelled with `alphabet` between them (by the characters after their common prefix). Reading
 * [low, b1), [b1, b2), … [bn, ∞) then visits every id above `low` exactly once, in order, in parallel.
 */
export function splitPoints(low: string, high: string, parts: number, alphabet: string = ID_ALPHABET): string[] {
  const letters = alphabetOf([alphabet, low, high]);
  const base = letters.length + 1; // digit 0 stands for "no character": shorter ids sort first
  // As many characters as keep base ** width below 2 ** 53, so the arithmetic stays exact.
  const width = Math.max(1, Math.floor(52 / Math.log2(base)));
  const numberOf = (id: string): number => {
    let value = 0;
    for (let i = 0; i < width; i++) value = value * base + (i < id.length ? letters.indexOf(id[i] as string) + 1 : 0);
    return value;
  };
  const idOf = (value: number): string => {
    const digits: number[] = [];
    for (let i = 0; i < width; i++) {
      digits.unshift(value % base);
      value = Math.floor(value / base);
    }
    const end = digits.indexOf(0);
    return (end === -1 ? digits : digits.slice(0, end)).map((d) => letters[d - 1]).join("");
  };

  let common = 0;
  while (common < low.length && low[common] === high[common]) common++;
  const prefix = low.slice(0, common);
  const from = numberOf(low.slice(common));
  const to = numberOf(high.slice(common));
  const points: string[] = [];
  for (let i = 1; i < parts; i++) {
    const point = prefix + idOf(Math.floor(from + ((to - from) * i) / parts));
    if (point > low && point < high && (points.length === 0 || point > (points.at(-1) as string))) points.push(point);
  }
  return points;
}
