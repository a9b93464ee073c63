import * as z from "zod";

/** The first day of ECB reference rates: Frankfurter v1 has nothing earlier (v2 starts in 1948). */
export const FIRST_RATE_DATE = "1999-01-04";

// toUpperCase() rewrites in place and keeps a plain string schema: a .transform() here would hide a
// field's .default() from the JSON Schema that tools/list advertises.
export const currencyCode = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{3}$/, "must be a 3-letter ISO 4217 currency code, e.g. USD")
  .toUpperCase();

export const isoDate = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD")
  .refine(isCalendarDate, "is not a real calendar date");

export const rateDate = z.union([z.literal("latest"), isoDate]);

export const amount = z
  .number()
  .positive("must be greater than 0")
  .max(1e15, "is too large")
  .refine(Number.isFinite, "must be a finite number");

export function isCalendarDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export function todayUtc(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** Checks that depend on the clock, so they run per call rather than in the static schema. */
export function checkDateInRange(
  field: string,
  date: string,
  now: number,
  first = FIRST_RATE_DATE,
): string | undefined {
  if (date < first) {
    return first === FIRST_RATE_DATE
      ? `${field} ${date} is too early: ECB reference rates start on ${first}`
      : `${field} ${date} is too early: rates start on ${first}`;
  }
  if (date > todayUtc(now)) return `${field} ${date} is in the future`;
  return undefined;
}

export function daysBetween(start: string, end: string): number {
  return Math.round(
    (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000,
  );
}
