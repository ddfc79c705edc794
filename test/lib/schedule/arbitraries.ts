import fc from "fast-check";

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** One value of a field, as a number or (where the field has them) a name in any case. */
function value(min: number, max: number, names?: string[]): fc.Arbitrary<{ n: number; text: string }> {
  const numeric = fc.integer({ min, max }).map((n) => ({ n, text: String(n) }));
  if (!names) return numeric;
  const named = fc
    .tuple(fc.integer({ min, max }), fc.constantFrom("upper", "lower"))
    .map(([n, caseOf]) => ({ n, text: caseOf === "upper" ? names[n - min]! : names[n - min]!.toLowerCase() }));
  return fc.oneof(numeric, named);
}

/** A list item: a value, a range, or an increment from `*`, a value or a range. */
function item(min: number, max: number, names?: string[], increments = true): fc.Arbitrary<string> {
  const one = value(min, max, names);
  const range = fc.tuple(one, one).map(([a, b]) => (a.n <= b.n ? `${a.text}-${b.text}` : `${b.text}-${a.text}`));
  const step = fc.integer({ min: 1, max: Math.max(1, max - min) });
  const forms = [one.map((v) => v.text), range];
  if (increments) {
    forms.push(
      step.map((s) => `*/${s}`),
      fc.tuple(one, step).map(([v, s]) => `${v.text}/${s}`),
      fc.tuple(range, step).map(([r, s]) => `${r}/${s}`),
    );
  }
  return fc.oneof(...forms);
}

function listField(min: number, max: number, names?: string[], increments = true): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant("*") },
    {
      weight: 4,
      arbitrary: fc
        .array(item(min, max, names, increments), { minLength: 1, maxLength: 3 })
        .map((items) => items.join(",")),
    },
  );
}

const dayOfMonth = fc.oneof(
  { weight: 4, arbitrary: listField(1, 31) },
  { weight: 1, arbitrary: fc.constant("L") },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.integer({ min: 1, max: 31 }), fc.integer({ min: 28, max: 31 })).map((n) => `${n}W`),
  },
);

const weekday = value(1, 7, DAYS).map((v) => v.text);
const dayOfWeek = fc.oneof(
  { weight: 4, arbitrary: listField(1, 7, DAYS, false) },
  { weight: 1, arbitrary: fc.constant("L") },
  { weight: 1, arbitrary: weekday.map((d) => `${d}L`) },
  { weight: 1, arbitrary: fc.tuple(weekday, fc.integer({ min: 1, max: 5 })).map(([d, n]) => `${d}#${n}`) },
);

const days = fc.oneof(
  dayOfMonth.map((dom) => [dom, "?"] as const),
  dayOfWeek.map((dow) => ["?" as string, dow] as const),
);

/** Any cron expression of EventBridge's documented grammar; years from 2025 on, so most still run. */
export const validCron: fc.Arbitrary<string> = fc
  .tuple(listField(0, 59), listField(0, 23), days, listField(1, 12, MONTHS), listField(2025, 2199))
  .map(([minutes, hours, [dom, dow], month, year]) => `cron(${minutes} ${hours} ${dom} ${month} ${dow} ${year})`);

/** Cron expressions that run at least once on most days: every month and year, any minutes and hours. */
export const dailyCron: fc.Arbitrary<string> = fc
  .tuple(listField(0, 59), listField(0, 23), fc.constantFrom(["*", "?"], ["?", "*"], ["?", "MON-FRI"], ["1-28/3", "?"]))
  .map(([minutes, hours, [dom, dow]]) => `cron(${minutes} ${hours} ${dom} * ${dow} *)`);
