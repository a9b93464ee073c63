// Dates in what people type: 2024-01-15, 15 January 2024, Jan 15 2024, christmas 2023, yesterday,
// last Friday, 3 days ago, and periods (2023, January 2024). What looks like a date but cannot be read
// for sure (01/02/2024, "the 5th", "easter") is reported as such, never guessed. Every regex here is
// linear: no nested quantifiers over the same characters.

import { lookup } from "./offline-catalog.js";

export type DateSpan = { start: number; end: number; raw: string } & (
  | { kind: "day"; date: string }
  | { kind: "period"; from: string; to: string }
  | { kind: "bad"; problem: "unreadable" | "ambiguous" | "invalid" }
);

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const MONTH = "(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)";
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const WEEKDAY = "(sunday|monday|tuesday|wednesday|thursday|friday|saturday)";
const ORD = "(?:st|nd|rd|th)?";
const UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"];
const ORDINAL_WORDS: Record<string, number> = lookup(Object.fromEntries([
  ...UNITS.map((w, i) => [w, i + 1]),
  ...["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"].map((w, i) => [w, i + 10]),
  ...UNITS.map((w, i) => [`twenty-${w}`, i + 21]),
  ["thirtieth", 30],
  ["thirty-first", 31],
]));
const ORDINAL = `(${Object.keys(ORDINAL_WORDS).sort((a, b) => b.length - a.length).join("|")})`;
const COUNT_WORDS: Record<string, number> = lookup({ a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, twelve: 12 });

const monthOf = (name: string): number => MONTHS.findIndex((m) => m.startsWith(name.toLowerCase().slice(0, 3))) + 1;
const pad = (n: number): string => String(n).padStart(2, "0");
const ymd = (y: number, m: number, d: number): string => `${String(y).padStart(4, "0")}-${pad(m)}-${pad(d)}`;

export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Adds days to a YYYY-MM-DD date; the caller bounds `days` (|days| ≤ a few centuries). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(start: string, end: string): number {
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000);
}

function lastDayOfMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** The most recent `month`/`day` on or before today. */
function mostRecent(today: string, month: number, day: number): string {
  const y = Number(today.slice(0, 4));
  const thisYear = ymd(y, month, day);
  return thisYear <= today ? thisYear : ymd(y - 1, month, day);
}

export function findDates(text: string, today: string): DateSpan[] {
  const spans: DateSpan[] = [];
  const taken = new Uint8Array(text.length);
  const free = (s: number, e: number): boolean => {
    for (let i = s; i < e; i++) if (taken[i]) return false;
    return true;
  };
  const push = (m: RegExpMatchArray, span: DistributiveOmit<DateSpan, "start" | "end" | "raw">): void => {
    const start = m.index!;
    const end = start + m[0].length;
    if (!free(start, end)) return;
    taken.fill(1, start, end);
    spans.push({ ...span, start, end, raw: m[0] } as DateSpan);
  };
  const day = (m: RegExpMatchArray, y: number, mo: number, d: number): void => {
    const date = ymd(y, mo, d);
    push(m, isCalendarDate(date) ? { kind: "day", date } : { kind: "bad", problem: "invalid" });
  };
  const scan = (re: RegExp, fn: (m: RegExpMatchArray) => void): void => {
    for (const m of text.matchAll(re)) fn(m);
  };

  scan(/\b(\d{4})-(\d{1,2})-(\d{1,2})\b/g, (m) => day(m, +m[1]!, +m[2]!, +m[3]!));
  scan(/\b(\d{4})\/(\d{1,2})\/(\d{1,2})\b/g, (m) => day(m, +m[1]!, +m[2]!, +m[3]!));
  scan(/\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b/g, (m) => {
    const a = +m[1]!;
    const b = +m[2]!;
    if (a > 12 && b <= 12) day(m, +m[3]!, b, a);
    else if (b > 12 && a <= 12) day(m, +m[3]!, a, b);
    else if (a === b) day(m, +m[3]!, a, b);
    else push(m, { kind: "bad", problem: "ambiguous" });
  });
  scan(new RegExp(`\\b(\\d{1,2})${ORD}(?: of)? ${MONTH}\\.?,? (\\d{4})\\b`, "gi"), (m) => day(m, +m[3]!, monthOf(m[2]!), +m[1]!));
  scan(new RegExp(`\\b${MONTH}\\.? (\\d{1,2})${ORD},? (\\d{4})\\b`, "gi"), (m) => day(m, +m[3]!, monthOf(m[1]!), +m[2]!));
  scan(new RegExp(`\\b(?:the )?${ORDINAL}(?: of)? ${MONTH}\\.?,? (\\d{4})\\b`, "gi"), (m) => day(m, +m[3]!, monthOf(m[2]!), ORDINAL_WORDS[m[1]!.toLowerCase()]!));
  scan(new RegExp(`\\b(?:the )?${ORDINAL}(?: of)? ${MONTH}\\b`, "gi"), (m) => {
    const date = mostRecent(today, monthOf(m[2]!), ORDINAL_WORDS[m[1]!.toLowerCase()]!);
    push(m, isCalendarDate(date) ? { kind: "day", date } : { kind: "bad", problem: "invalid" });
  });
  // "the end of 2023", "the start of March 2024": one day, the period's first or last.
  scan(new RegExp(`\\b(?:the )?(end|start|beginning) of (?:${MONTH},? )?(\\d{4})\\b`, "gi"), (m) => {
    const y = +m[3]!;
    const mo = m[2] ? monthOf(m[2]) : undefined;
    const first = m[1]!.toLowerCase() !== "end";
    if (mo) day(m, y, mo, first ? 1 : lastDayOfMonth(y, mo));
    else day(m, y, first ? 1 : 12, first ? 1 : 31);
  });
  scan(new RegExp(`\\b(?:the )?(\\d{1,2})${ORD}(?: of)? ${MONTH}\\b`, "gi"), (m) => {
    const date = mostRecent(today, monthOf(m[2]!), +m[1]!);
    push(m, isCalendarDate(date) ? { kind: "day", date } : { kind: "bad", problem: "invalid" });
  });
  scan(new RegExp(`\\b${MONTH}\\.? (\\d{1,2})${ORD}\\b(?![.,]?\\d)`, "gi"), (m) => {
    const date = mostRecent(today, monthOf(m[1]!), +m[2]!);
    push(m, isCalendarDate(date) ? { kind: "day", date } : { kind: "bad", problem: "invalid" });
  });
  scan(new RegExp(`\\b${MONTH},? (\\d{4})\\b`, "gi"), (m) => {
    const y = +m[2]!;
    const mo = monthOf(m[1]!);
    push(m, { kind: "period", from: ymd(y, mo, 1), to: ymd(y, mo, lastDayOfMonth(y, mo)) });
  });
  scan(/\b(christmas|xmas|new year'?s? eve|new year'?s?(?: day)?|boxing day)(?: (eve|day))?(?:,? (?:of )?(\d{4}))?\b/gi, (m) => {
    const name = m[1]!.toLowerCase();
    const eve = m[2]?.toLowerCase() === "eve" || name.endsWith("eve");
    const [mo, d] = name.startsWith("new year") ? (eve ? [12, 31] : [1, 1]) : name === "boxing day" ? [12, 26] : eve ? [12, 24] : [12, 25];
    if (m[3]) day(m, +m[3], mo!, d!);
    else push(m, { kind: "day", date: mostRecent(today, mo!, d!) });
  });
  scan(/\b(?:the )?day before yesterday\b/gi, (m) => push(m, { kind: "day", date: addDays(today, -2) }));
  scan(/\byesterday\b/gi, (m) => push(m, { kind: "day", date: addDays(today, -1) }));
  scan(/\btoday\b/gi, (m) => push(m, { kind: "day", date: today }));
  scan(/\b(\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve) (day|week|month|year)s? ago\b/gi, (m) => {
    const n = COUNT_WORDS[m[1]!.toLowerCase()] ?? Number(m[1]);
    const unit = m[2]!.toLowerCase();
    const days = n * (unit === "day" ? 1 : unit === "week" ? 7 : unit === "month" ? 30 : 365);
    push(m, { kind: "day", date: addDays(today, -days) });
  });
  scan(new RegExp(`\\b(?:last|on|this past|past) ${WEEKDAY}\\b`, "gi"), (m) => {
    const wanted = WEEKDAYS.indexOf(m[1]!.toLowerCase());
    const now = new Date(`${today}T00:00:00Z`).getUTCDay();
    const back = ((now - wanted + 7) % 7) || 7;
    push(m, { kind: "day", date: addDays(today, -back) });
  });
  // A year alone is a period only after a word that introduces a time ("in 2023", "since 2020") and
  // when no currency follows: "in 2000 yen" is an amount.
  scan(/\b(?:in|during|for|of|since|from|year|until|to|and|between) (19\d\d|20\d\d)\b(?!\s*[.,]?\d)(?! ?[\p{L}$€£¥₹])/giu, (m) => {
    const y = m[1]!;
    const at = m.index! + m[0].length - 4;
    if (!free(at, at + 4)) return;
    taken.fill(1, at, at + 4);
    spans.push({ kind: "period", from: `${y}-01-01`, to: `${y}-12-31`, start: at, end: at + 4, raw: y });
  });
  // Left over: words that mean a date we could not read for sure.
  scan(new RegExp(`\\b(?:(?:the )?\\d{1,2}(?:st|nd|rd|th)\\b|${MONTH}\\b|${WEEKDAY}\\b|easter|thanksgiving|halloween|\\d{1,2}/\\d{1,2}\\b|(?:next|coming) (?:week|month|year))`, "gi"), (m) => {
    // "may" is a verb far more often than a month.
    if (m[0].toLowerCase() === "may" || m[0].toLowerCase() === "mar") return;
    push(m, { kind: "bad", problem: "unreadable" });
  });
  return spans.sort((a, b) => a.start - b.start);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export { COUNT_WORDS };
