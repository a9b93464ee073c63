// Reads what a person types about exchange rates into one tool call, deterministically. It knows
// ISO codes, common currency names and symbols, amounts (1,250.50 / 2.5k), and dates.

export type Intent =
  | { kind: "convert"; from: string; to: string; amount: number; date: string; assumedTarget: boolean }
  | { kind: "history"; from: string; to: string; start: string; end: string }
  | { kind: "list" }
  | { kind: "decline"; reason: string };

/** ISO codes that ECB reference rates cover (and so Frankfurter). */
export const KNOWN_CODES = new Set([
  "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "ISK",
  "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RON", "SEK", "SGD", "THB", "TRY", "USD", "ZAR",
]);

// Longest names first, so "canadian dollars" wins over "dollars".
const NAMES: Array<[RegExp, string]> = (
  [
    ["us dollars?|u\\.s\\. dollars?|american dollars?|greenbacks?|bucks?", "USD"],
    ["canadian dollars?|loonies", "CAD"],
    ["australian dollars?|aussie dollars?", "AUD"],
    ["new zealand dollars?|kiwi dollars?", "NZD"],
    ["hong kong dollars?", "HKD"],
    ["singapore dollars?", "SGD"],
    ["dollars?", "USD"],
    ["euros?", "EUR"],
    ["british pounds?|pounds? sterling|sterling|pounds?|quid", "GBP"],
    ["japanese yen|yen", "JPY"],
    ["swiss francs?|francs?", "CHF"],
    ["chinese yuan|yuan|renminbi|rmb", "CNY"],
    ["indian rupees?|rupees?", "INR"],
    ["indonesian rupiah|rupiah", "IDR"],
    ["south korean won|korean won", "KRW"],
    ["mexican pesos?|pesos?", "MXN"],
    ["philippine pesos?", "PHP"],
    ["brazilian reals?|reais", "BRL"],
    ["south african rand|rand", "ZAR"],
    ["swedish kron(?:a|or)", "SEK"],
    ["norwegian kron(?:e|er)", "NOK"],
    ["danish kron(?:e|er)", "DKK"],
    ["czech korun(?:a|y)|koruna", "CZK"],
    ["icelandic kr[oó]n(?:a|ur)", "ISK"],
    ["polish z[lł]oty|z[lł]oty", "PLN"],
    ["hungarian forints?|forints?", "HUF"],
    ["romanian lei|romanian leu|lei", "RON"],
    ["bulgarian lev|leva?", "BGN"],
    ["turkish lir(?:a|as)|lira", "TRY"],
    ["israeli (?:new )?shekels?|shekels?", "ILS"],
    ["thai baht|baht", "THB"],
    ["malaysian ringgit|ringgit", "MYR"],
  ] as Array<[string, string]>
).map(([pattern, code]) => [new RegExp(`\\b(?:${pattern})\\b`, "giu"), code]);

const SYMBOLS: Record<string, string> = { "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₺": "TRY", "₪": "ILS", "฿": "THB", "zł": "PLN", "$": "USD" };
const PREFIXED_DOLLARS: Record<string, string> = { US$: "USD", C$: "CAD", CA$: "CAD", A$: "AUD", AU$: "AUD", NZ$: "NZD", HK$: "HKD", S$: "SGD", R$: "BRL" };

interface Mention {
  code: string;
  at: number;
}

const NUMBER = /(?<![\w.])(\d{1,3}(?:[,\u00a0 ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s?(k|thousand|m|mn|million|bn|billion)\b)?/giu;
const MULTIPLIER: Record<string, number> = { k: 1e3, thousand: 1e3, m: 1e6, mn: 1e6, million: 1e6, bn: 1e9, billion: 1e9 };
const ISO_DATE = /\b(\d{4}-\d{2}-\d{2})\b/g;
const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

export function parseMessage(message: string, today: string): Intent {
  const text = message.normalize("NFKC").trim();
  const lower = text.toLowerCase();
  if (!text) return { kind: "decline", reason: "empty" };

  if (/\b(which|what|list|show|supported|available|all)\b.*\bcurrenc(y|ies)\b|\bcurrencies\b.*\b(know|support|have|list|available)\b/.test(lower) && !/\bto\b.*\brate\b/.test(lower)) {
    if (findCurrencies(text).length < 2) return { kind: "list" };
  }

  const dates = findDates(text, today);
  // Dates are not amounts: blank them out before looking for numbers.
  let scrubbed = text;
  for (const d of dates) scrubbed = scrubbed.replace(d.raw, " ".repeat(d.raw.length));
  const mentions = findCurrencies(scrubbed);
  const amountMatch = findAmount(scrubbed);

  const isHistory = /\b(history|historical|trend|over the (last|past)|(last|past) (\d+ )?(days?|weeks?|months?|years?)|since|between|time ?series|evolution|chart)\b/.test(lower);

  if (mentions.length === 0) {
    return { kind: "decline", reason: /\b(rate|convert|exchange|currenc)/.test(lower) ? "no_currency" : "off_topic" };
  }
  if (/\b(buy|sell|invest|predict|forecast|tomorrow|next (week|month|year)|will .* (rise|fall|go))\b/.test(lower)) {
    return { kind: "decline", reason: "advice" };
  }

  let [from, to] = orderPair(mentions, lower, amountMatch?.at);
  let assumedTarget = false;
  if (!to) {
    to = from === "EUR" ? "USD" : "EUR";
    assumedTarget = true;
  }

  if (isHistory) {
    const range = historyRange(lower, dates.map((d) => d.date), today);
    if (!range) return { kind: "decline", reason: "history_range" };
    return { kind: "history", from: from!, to, ...range };
  }

  const date = dates.length ? dates[0]!.date : /\byesterday\b/.test(lower) ? addDays(today, -1) : "latest";
  return { kind: "convert", from: from!, to, amount: amountMatch?.value ?? 1, date, assumedTarget };
}

function findCurrencies(text: string): Mention[] {
  const found: Mention[] = [];
  const taken: Array<[number, number]> = [];
  const free = (start: number, end: number): boolean => taken.every(([s, e]) => end <= s || start >= e);
  const add = (code: string, start: number, end: number): void => {
    if (!free(start, end)) return;
    taken.push([start, end]);
    found.push({ code, at: start });
  };
  for (const [prefix, code] of Object.entries(PREFIXED_DOLLARS)) {
    for (let i = text.indexOf(prefix); i >= 0; i = text.indexOf(prefix, i + 1)) add(code, i, i + prefix.length);
  }
  for (const m of text.matchAll(/\b([A-Za-z]{3})\b/g)) {
    const code = m[1]!.toUpperCase();
    // Upper-case unknown codes count only next to an amount ("100 XYZ"), so words like "THE" don't.
    const known = KNOWN_CODES.has(code) && (m[1] === code || !COMMON_WORDS.has(m[1]!.toLowerCase()));
    const nextToAmount = m[1] === code && /\d\s*$/.test(text.slice(0, m.index));
    if (known || nextToAmount) add(code, m.index!, m.index! + 3);
  }
  for (const [re, code] of NAMES) {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) add(code, m.index!, m.index! + m[0].length);
  }
  for (const [symbol, code] of Object.entries(SYMBOLS)) {
    for (let i = text.indexOf(symbol); i >= 0; i = text.indexOf(symbol, i + 1)) add(code, i, i + symbol.length);
  }
  found.sort((a, b) => a.at - b.at);
  // "euros to euros" is one currency twice; keep the order of first appearance.
  return found.filter((m, i) => found.findIndex((n) => n.code === m.code) === i);
}

// Three-letter words that are also ISO codes we know: none of the 31 today, but lower-case
// codes in running text ("try", "won") must not be read as currencies.
const COMMON_WORDS = new Set(["try", "cad", "all", "top"]);

function findAmount(text: string): { value: number; at: number } | undefined {
  for (const m of text.matchAll(NUMBER)) {
    const value = Number(m[1]!.replace(/[,\u00a0 ]/g, "")) * (m[2] ? MULTIPLIER[m[2].toLowerCase()]! : 1);
    if (Number.isFinite(value) && value > 0) return { value, at: m.index! };
  }
  return undefined;
}

/** Works out which currency is converted into which from the wording. */
function orderPair(mentions: Mention[], lower: string, amountAt: number | undefined): [string, string | undefined] {
  const [a, b] = mentions;
  if (!b) return [a!.code, undefined];
  // "how many Swiss francs is 1,250.50 euros", "how much yen for 50 dollars": target first.
  const askTargetFirst = /\bhow (many|much)\b/.test(lower) && amountAt !== undefined && a!.at < amountAt && b.at > amountAt;
  // "in dollars, what is €20" or "EUR from USD"
  const fromWord = /\bfrom\b/.exec(lower);
  const fromBeforeSecond = fromWord && fromWord.index > a!.at && fromWord.index < b.at && !/\bconvert\b/.test(lower.slice(0, a!.at));
  return askTargetFirst || fromBeforeSecond ? [b.code, a!.code] : [a!.code, b.code];
}

interface FoundDate {
  date: string;
  raw: string;
}

function findDates(text: string, today: string): FoundDate[] {
  const out: FoundDate[] = [];
  for (const m of text.matchAll(ISO_DATE)) out.push({ date: m[1]!, raw: m[0] });
  const monthNames = MONTHS.join("|") + "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec";
  const dmy = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)? (${monthNames})\\.?,? (\\d{4})\\b`, "gi");
  const mdy = new RegExp(`\\b(${monthNames})\\.? (\\d{1,2})(?:st|nd|rd|th)?,? (\\d{4})\\b`, "gi");
  const month = (name: string): number => MONTHS.findIndex((m) => m.startsWith(name.toLowerCase().slice(0, 3))) + 1;
  const iso = (y: string, mo: number, d: string): string => `${y}-${String(mo).padStart(2, "0")}-${d.padStart(2, "0")}`;
  for (const m of text.matchAll(dmy)) out.push({ date: iso(m[3]!, month(m[2]!), m[1]!), raw: m[0] });
  for (const m of text.matchAll(mdy)) out.push({ date: iso(m[3]!, month(m[1]!), m[2]!), raw: m[0] });
  void today;
  return out;
}

function historyRange(lower: string, dates: string[], today: string): { start: string; end: string } | undefined {
  if (dates.length >= 2) return { start: dates[0]!, end: dates[1]! };
  if (dates.length === 1 && /\bsince|from\b/.test(lower)) return { start: dates[0]!, end: today };
  const n = /\b(?:last|past)\s+(\d+|a|one|two|three|four|six|twelve)?\s*(day|week|month|year)s?\b/.exec(lower);
  if (n) {
    const words: Record<string, number> = { a: 1, one: 1, two: 2, three: 3, four: 4, six: 6, twelve: 12 };
    const count = n[1] ? (words[n[1]] ?? Number(n[1])) : 1;
    const days = { day: 1, week: 7, month: 30, year: 365 }[n[2] as "day" | "week" | "month" | "year"] * count;
    return { start: addDays(today, -days), end: today };
  }
  if (/\bhistory|trend|evolution|chart|time ?series\b/.test(lower)) return { start: addDays(today, -30), end: today };
  return undefined;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
