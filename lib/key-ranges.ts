/** Every character an id may hold, in DynamoDB's (byte) order. */
const ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const BASE = ALPHABET.length + 1; // digit 0 stands for "no character": shorter ids sort first
const PREFIX = 8; // BASE ** PREFIX < 2 ** 53, so the arithmetic stays exact

const idValue = (id: string): number => {
  let value = 0;
  for (let i = 0; i < PREFIX; i++) value = value * BASE + (i < id.length ? ALPHABET.indexOf(id[i] as string) + 1 : 0);
  return value;
};

const idOf = (value: number): string => {
  const digits: number[] = [];
  for (let i = 0; i < PREFIX; i++) {
    digits.unshift(value % BASE);
    value = Math.floor(value / BASE);
  }
  const end = digits.indexOf(0);
  return (end === -1 ? digits : digits.slice(0, end)).map((d) => ALPHABET[d - 1]).join("");
};

/**
 * Up to `parts - 1` ids strictly between `low` and `high`, ascending, spread evenly over the id
 * space between them (by the 8 characters after their common prefix). Reading [low, b1),
 * [b1, b2), … [bn, ∞) then visits every id above `low` exactly once, in order, in parallel.
 */
export function splitPoints(low: string, high: string, parts: number): string[] {
  let common = 0;
  while (common < low.length && low[common] === high[common]) common++;
  const prefix = low.slice(0, common);
  const from = idValue(low.slice(common));
  const to = idValue(high.slice(common));
  const points: string[] = [];
  for (let i = 1; i < parts; i++) {
    const point = prefix + idOf(Math.floor(from + ((to - from) * i) / parts));
    if (point > low && point < high && (points.length === 0 || point > (points.at(-1) as string))) points.push(point);
  }
  return points;
}
