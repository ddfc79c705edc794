/**
 * A second reading of EventBridge's cron fields, written from the documentation alone and kept
 * slow and plain: it decides whether one local date and time matches, and finds the next one by
 * walking the days. Tests hold the library-backed code to it.
 */

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

function number(text: string, names: string[] | undefined, first: number): number {
  const index = names?.indexOf(text.toUpperCase()) ?? -1;
  return index >= 0 ? first + index : Number(text);
}

/** The values a list field names: `*`, values, ranges, increments from a start or over a range. */
function values(text: string, min: number, max: number, names?: string[]): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(",")) {
    const [base, stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let from = min;
    let to = max;
    if (base !== "*") {
      const [a, b] = base!.split("-");
      from = number(a!, names, min);
      to = b !== undefined ? number(b, names, min) : stepText !== undefined ? max : from;
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

const lastDayOf = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * The weekday nearest day `n` of the month, never leaving the month; none in a month without day
 * `n` (AWS's documentation does not say; this is how croner reads it).
 */
function nearestWeekday(year: number, month: number, n: number): number | undefined {
  const last = lastDayOf(year, month);
  if (n > last) return undefined;
  const day = n;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === last ? day - 2 : day + 1;
  return day;
}

export interface ReferenceCron {
  matchesDay(year: number, month: number, day: number): boolean;
  minutesOfDay: number[];
}

export function referenceCron(expression: string): ReferenceCron {
  const [minutes, hours, dom, month, dow, year] = expression.slice("cron(".length, -1).toUpperCase().split(" ") as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const minuteSet = values(minutes, 0, 59);
  const hourSet = values(hours, 0, 23);
  const monthSet = values(month, 1, 12, MONTHS);
  const yearSet = values(year, 1970, 2199);
  const domSet = dom === "?" || dom === "L" || dom.endsWith("W") ? undefined : values(dom, 1, 31);
  const dowSet = dow === "?" || /[L#]/.test(dow) ? undefined : values(dow, 1, 7, DAYS);
  const minutesOfDay = [...hourSet].flatMap((h) => [...minuteSet].map((m) => h * 60 + m)).sort((a, b) => a - b);

  const domMatches = (y: number, mo: number, d: number): boolean => {
    if (dom === "?") return true;
    if (dom === "L") return d === lastDayOf(y, mo);
    if (dom.endsWith("W")) return d === nearestWeekday(y, mo, Number(dom.slice(0, -1)));
    return domSet!.has(d);
  };
  const dowMatches = (y: number, mo: number, d: number): boolean => {
    const weekday = new Date(Date.UTC(y, mo - 1, d)).getUTCDay() + 1;
    if (dow === "?") return true;
    if (dow === "L") return weekday === 7;
    if (dow.endsWith("L")) return weekday === number(dow.slice(0, -1), DAYS, 1) && d + 7 > lastDayOf(y, mo);
    if (dow.includes("#")) {
      const [which, nth] = dow.split("#");
      return weekday === number(which!, DAYS, 1) && Math.ceil(d / 7) === Number(nth);
    }
    return dowSet!.has(weekday);
  };
  return {
    minutesOfDay,
    matchesDay: (y, mo, d) => yearSet.has(y) && monthSet.has(mo) && domMatches(y, mo, d) && dowMatches(y, mo, d),
  };
}

/** Whether a wall-clock minute (UTC milliseconds of the local date and time) matches. */
export function referenceMatches(cron: ReferenceCron, wallClock: number): boolean {
  const date = new Date(wallClock);
  const minuteOfDay = date.getUTCHours() * 60 + date.getUTCMinutes();
  return (
    cron.matchesDay(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()) &&
    cron.minutesOfDay.includes(minuteOfDay)
  );
}

/** The first matching wall-clock minute strictly after `wallClock`, walking day by day up to 2200. */
export function referenceNext(cron: ReferenceCron, wallClock: number): number | null {
  const startDay = Math.floor(wallClock / DAY_MS) * DAY_MS;
  for (let day = startDay; new Date(day).getUTCFullYear() < 2200; day += DAY_MS) {
    const date = new Date(day);
    if (!cron.matchesDay(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())) continue;
    for (const minute of cron.minutesOfDay) {
      const at = day + minute * MINUTE_MS;
      if (at > wallClock) return at;
    }
  }
  return null;
}
