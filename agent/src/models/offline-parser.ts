// Reads what a person types about exchange rates into a plan, deterministically: amounts (1,250.50,
// 2.5k), currencies (codes, names, symbols), dates (see offline-dates.ts), several targets, rate
// histories, and follow-ups that take what they leave out from the previous question. It never
// substitutes a currency the user did not name: an unknown or ambiguous one becomes a decline or a
// question. Runs in time linear in the message (one tokenising pass, bounded look-ahead, capped
// mentions), so 8,000 characters of "$" cost the same as a sentence.

import {
  ALIASES, AMBIGUOUS_WORDS, CONVENTIONS, ENGLISH_CODES, fold, indexNames, lookup, NON_CURRENCY_ASSETS, NOT_CODES,
  PREFIXED_DOLLARS, singular, SYMBOLS, WORDS_NEEDING_CONTEXT, type Catalog, type NameIndex,
} from "./offline-catalog.js";
import { addDays, COUNT_WORDS, daysBetween, findDates, type DateSpan } from "./offline-dates.js";

/** What a question asks, as far as it says: the part a follow-up can take over. */
export interface Question {
  from?: string | undefined;
  to: string[];
  amount?: number | undefined;
  /** "latest" or YYYY-MM-DD. */
  date?: string | undefined;
  range?: { start: string; end: string; clamped: boolean } | undefined;
  history: boolean;
}

export type BadAmount = "zero" | "negative" | "not_a_number" | "too_large" | "year_or_amount";

export type Intent =
  | { kind: "convert"; from: string; to: string[]; amount: number; date: string; question: Question }
  | { kind: "history"; from: string; to: string[]; start: string; end: string; clamped: boolean; question: Question }
  /** "Which currencies do you know?", or "do you know naira?" when `asked` names some. */
  | { kind: "list"; asked: Array<{ word: string; code?: string | undefined }> }
  /** The currency list is needed to read this message, and it has not been fetched yet. */
  | { kind: "needs_catalog" }
  | { kind: "ask_target"; from: string; amount?: number | undefined; question: Question }
  /** An ambiguous name ("peso"); `question` is the rest, so that the answer ("MXN") completes it. */
  | { kind: "ask_which"; word: string; options: string[]; question: Question }
  /** Only targets were named ("in GBP?") and there is no earlier question to take the rest from. */
  | { kind: "ask_source"; to: string[]; question: Question }
  | { kind: "ask_day"; raw: string; example: string }
  /** `checked`: the words were looked up in the rate source's currency list (not just unknown to us). */
  | { kind: "unknown_currency"; words: string[]; checked: boolean }
  | { kind: "bad_amount"; problem: BadAmount; raw: string }
  | { kind: "bad_date"; raw: string; problem: "unreadable" | "ambiguous" | "invalid" | "future" }
  | { kind: "too_many_targets"; max: number }
  | { kind: "decline"; reason: "empty" | "off_topic" | "no_currency" | "advice" };

export interface ParseContext {
  /** YYYY-MM-DD, UTC. */
  today: string;
  /** The currencies the rate source publishes, when known. */
  catalog?: Catalog | undefined;
  /** Whether the caller can fetch the catalog: if so, anything that needs it yields needs_catalog. */
  canFetchCatalog?: boolean | undefined;
  /** The last question of the conversation, for follow-ups. */
  previous?: Question | undefined;
}

/** The history tool answers at most this many days at a time; longer periods are clamped to it. */
export const MAX_HISTORY_DAYS = 366;
/** The rate tool refuses larger amounts. */
export const MAX_AMOUNT = 1e15;
export const MAX_TARGETS = 10;
/** Mentions past this many are ignored: no question names more currencies, and it bounds the work. */
const MAX_MENTIONS = 32;
/** Messages are at most 8,000 characters; history entries from elsewhere are cut to the same. */
const MAX_CHARS = 8000;

interface Token {
  type: "num" | "word" | "sym" | "prefixed";
  text: string;
  /** Folded, dots removed, singular: the key currency words are looked up by. */
  key: string;
  start: number;
  end: number;
  inDate: boolean;
  /** For numbers written in words ("one hundred"). */
  value?: number;
}

interface Mention {
  /** Index of the first token. */
  at: number;
  /** Index of the last token. */
  last: number;
  code?: string;
  unknown?: string;
  ambiguous?: { word: string; options: string[] };
  /** Guessed without the list (a code outside the common ones, a word in a currency's place). */
  uncertain?: boolean;
}

const TOKEN = /((?:US|CA|AU|NZ|HK|MX|C|A|S|R)\$)|(\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:\.\d{3}){2,}(?![\d,])|\d{1,3}(?:[,\u00a0\u202f]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(\p{L}[\p{L}\p{M}'’]*(?:\.\p{L}[\p{L}\p{M}]*)*)|(\S)/gu;
const MULTIPLIERS: Record<string, number> = lookup({ k: 1e3, thousand: 1e3, m: 1e6, mn: 1e6, mio: 1e6, million: 1e6, bn: 1e9, billion: 1e9, trillion: 1e12 });
const TIME_UNITS = new Set(["day", "week", "month", "year", "decade", "century", "hour", "minute", "second", "time", "quarter", "percent", "%", "ago", "x"]);
const SLOT_STOPWORDS = new Set([
  "me", "you", "us", "it", "them", "that", "this", "what", "which", "something", "anything", "other", "another", "local",
  "cash", "total", "money", "currency", "currencie", "rate", "the", "a", "an", "my", "your", "please", "now", "today",
  "exchange", "convert", "be", "get", "buy", "sell", "do", "i", "we", "there", "here", "euro", "one", "each", "all",
  "both", "more", "less", "much", "many", "how", "is", "are", "was", "were", "on", "at", "of", "and", "or", "so",
]);
/** A number after one of these is a count, not an amount ("top 10", "last 3 months"). */
const COUNT_BEFORE = new Set(["last", "past", "top", "first", "next", "previous"]);
const KNOWN_WITHOUT_LIST = new Set([...ALIASES.map(([, c]) => c), ...Object.values(CONVENTIONS), ...Object.values(SYMBOLS), ...Object.values(PREFIXED_DOLLARS)]);

const LIST_QUESTION = /\b(?:which|what|list|show|supported|available|all|how many)\b.{0,40}\bcurrenc(?:y|ies)\b|\bcurrencies\b.{0,40}\b(?:know|support|have|list|available|cover)|\b(?:do you (?:know|support|have|cover|handle)|(?:is|are) .{1,40} (?:supported|available|covered|published))\b/i;
const ADVICE = /\b(?:buy|sell|invest|predict|prediction|forecast|tomorrow|next (?:week|month|year)|should i|will (?:the )?.{1,30} (?:rise|fall|go (?:up|down)|drop|crash))\b/i;
const HISTORY = /\b(?:history|historical|historic|trend|over the (?:last|past)|(?:last|past) (?:\d+ |few |several |couple of |[a-z]+ )?(?:days?|weeks?|months?|quarters?|years?|decades?|centur(?:y|ies))|since|time ?series|evolution|chart|graph)\b/i;
const RATE_WORDS = /\b(?:rate|rates|convert|conversion|exchange|currenc|how much|worth|price|value|fx)/i;

/** 1,250.50 and 1 250,50 (thin spaces) and 1.250,50 (European) are all 1250.5. */
function numberValue(t: Token): number {
  if (t.value !== undefined) return t.value;
  if (/^\d{1,3}(?:\.\d{3})+(?:,\d+)?$/.test(t.text) && (t.text.includes(",") || t.text.split(".").length > 2)) {
    return Number(t.text.replace(/\./g, "").replace(",", "."));
  }
  return Number(t.text.replace(/[,\u00a0\u202f]/g, ""));
}

const AMBIGUOUS = "?";

function tokenize(text: string, dates: DateSpan[]): Token[] {
  const tokens: Token[] = [];
  let d = 0;
  for (const m of text.matchAll(TOKEN)) {
    const start = m.index!;
    const end = start + m[0].length;
    while (d < dates.length && dates[d]!.end <= start) d++;
    const inDate = d < dates.length && dates[d]!.start < end && start < dates[d]!.end;
    const type = m[1] ? "prefixed" : m[2] ? "num" : m[3] ? "word" : "sym";
    tokens.push({ type, text: m[0], key: type === "word" ? singular(m[0].replace(/\./g, "")) : m[0], start, end, inDate });
  }
  return numberWords(tokens);
}

const SMALL_NUMBERS: Record<string, number> = lookup(Object.fromEntries(
  ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"].map((w, i) => [w, i]),
));
const TENS: Record<string, number> = lookup({ twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 });
const SCALES: Record<string, number> = lookup({ hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9 });

/** "one hundred and fifty", "twenty-five", "a thousand": one number token, in one pass. */
function numberWords(tokens: Token[]): Token[] {
  const out: Token[] = [];
  const word = (t: Token | undefined): string => (t?.type === "word" && !t.inDate ? t.text.toLowerCase() : "");
  const isNumberWord = (w: string): boolean => w in SMALL_NUMBERS || w in TENS || w in SCALES;
  for (let i = 0; i < tokens.length; i++) {
    const first = word(tokens[i]);
    const startsNumber = isNumberWord(first) || ((first === "a" || first === "an") && word(tokens[i + 1]) in SCALES);
    if (!startsNumber || first in SCALES) {
      out.push(tokens[i]!);
      continue;
    }
    let total = 0;
    let current = first === "a" || first === "an" ? 1 : 0;
    let j = first === "a" || first === "an" ? i + 1 : i;
    let last = i;
    while (j < tokens.length) {
      const w = word(tokens[j]);
      if (w in SMALL_NUMBERS) current += SMALL_NUMBERS[w]!;
      else if (w in TENS) current += TENS[w]!;
      else if (w === "hundred") current = (current || 1) * 100;
      else if (w in SCALES) {
        total += (current || 1) * SCALES[w]!;
        current = 0;
      } else break;
      last = j;
      // "twenty-five", "one hundred and fifty"
      const joiner = tokens[j + 1];
      if (joiner && ((joiner.text === "-" && joiner.start === tokens[j]!.end) || word(joiner) === "and") && isNumberWord(word(tokens[j + 2]))) j += 2;
      else j++;
    }
    const value = total + current;
    const a = tokens[i]!;
    const b = tokens[last]!;
    out.push({ type: "num", text: tokens.slice(i, last + 1).map((t) => t.text).join(" "), key: "", start: a.start, end: b.end, inDate: false, value });
    i = last;
  }
  return out;
}

export function parseMessage(message: string, ctx: ParseContext): Intent {
  const text = message.normalize("NFKC").slice(0, MAX_CHARS).trim();
  if (!text) return { kind: "decline", reason: "empty" };
  const { today, catalog } = ctx;
  const canFetch = !catalog && ctx.canFetchCatalog === true;
  const dates = findDates(text, today);
  const tokens = tokenize(text, dates);
  const index = catalogIndex(catalog);
  const mentions = findMentions(tokens, catalog, index);
  const lower = text.toLowerCase();

  if (LIST_QUESTION.test(text) && !/\bto\b.*\brate\b|\brate\b.*\bto\b/i.test(lower)) {
    const asked = mentions.filter((m) => !m.ambiguous).map((m) => ({ word: tokensText(tokens, m), code: m.code }));
    if (asked.length < 2) {
      if (canFetch && (asked.some((a) => !a.code) || mentions.some((m) => m.uncertain))) return { kind: "needs_catalog" };
      return { kind: "list", asked };
    }
  }
  if (ADVICE.test(text) && (mentions.length || RATE_WORDS.test(text))) return { kind: "decline", reason: "advice" };

  const previous = ctx.previous;
  const badDate = dates.find((s) => s.kind === "bad");
  const amount = findAmount(tokens, mentions);

  if (canFetch && mentions.some((m) => m.uncertain || m.ambiguous || m.unknown)) return { kind: "needs_catalog" };
  const unknown = mentions.filter((m) => m.unknown);
  if (unknown.length) return { kind: "unknown_currency", words: [...new Set(unknown.map((m) => m.unknown!))], checked: catalog !== undefined };
  // An ambiguous name takes part in the wording as a placeholder, so the question back keeps the rest.
  const ambiguous = mentions.find((m) => m.ambiguous);
  if (ambiguous) ambiguous.code = AMBIGUOUS;

  if (!mentions.length && !previous) {
    if (amount.problem && RATE_WORDS.test(text)) return { kind: "bad_amount", problem: amount.problem, raw: amount.raw! };
    return { kind: "decline", reason: RATE_WORDS.test(text) ? "no_currency" : "off_topic" };
  }
  if (!mentions.length && amount.value === undefined && !amount.problem && !dates.length && !FOLLOW_UP.test(text)) {
    return { kind: "decline", reason: RATE_WORDS.test(text) ? "no_currency" : "off_topic" };
  }
  if (amount.problem) return { kind: "bad_amount", problem: amount.problem, raw: amount.raw! };
  if (amount.at !== undefined && isYearOrAmount(tokens, mentions, amount.at, today)) return { kind: "bad_amount", problem: "year_or_amount", raw: amount.raw! };
  if (badDate) return { kind: "bad_date", raw: badDate.raw, problem: badDate.kind === "bad" ? badDate.problem : "unreadable" };

  // What this message says by itself.
  const { from, to } = orderMentions(tokens, mentions, amount.at);
  const days = dates.filter((s): s is Extract<DateSpan, { kind: "day" }> => s.kind === "day");
  const periods = dates.filter((s): s is Extract<DateSpan, { kind: "period" }> => s.kind === "period");
  const isHistory = HISTORY.test(text) || days.length >= 2;
  const future = days.find((s) => s.date > today) ?? periods.find((p) => p.from > today);
  if (future) return { kind: "bad_date", raw: future.raw, problem: "future" };

  let q: Question = { from, to, amount: amount.value, history: isHistory || periods.length > 0 };
  if (q.history) {
    const range = historyRange(lower, tokens, days.map((s) => s.date), periods, today);
    if (range) q.range = range;
  } else if (days.length) {
    q.date = days[0]!.date === today ? "latest" : days[0]!.date;
  }

  // "and GBP and CHF?", "what about yen?": after a question, currencies named alone are new targets.
  if (previous && FOLLOW_UP.test(text) && amount.value === undefined && !mentionAfterFrom(tokens, mentions) && mentions.length) {
    q = { ...q, from: undefined, to: mentions.flatMap((m) => (m.code ? [m.code] : [])) };
  }
  if (previous && isFollowUp(q, text, mentions)) q = merge(q, previous, mentions, tokens);

  if (ambiguous && (q.from === AMBIGUOUS || q.to.includes(AMBIGUOUS))) {
    const question = { ...q, from: q.from === AMBIGUOUS ? undefined : q.from, to: q.to.filter((c) => c !== AMBIGUOUS) };
    return { kind: "ask_which", ...ambiguous.ambiguous!, question };
  }
  const source = q.from;
  if (!source && q.to.length) return { kind: "ask_source", to: q.to, question: q };
  if (!source) return { kind: "decline", reason: RATE_WORDS.test(text) || q.amount !== undefined ? "no_currency" : "off_topic" };
  const targets = q.to.filter((c) => c !== source);
  if (!targets.length) return { kind: "ask_target", from: source, amount: q.amount, question: { ...q, to: [] } };
  if (targets.length > MAX_TARGETS) return { kind: "too_many_targets", max: MAX_TARGETS };
  q = { ...q, to: targets };

  if (q.history) {
    const range = q.range ?? defaultRange(today);
    // "100 USD in EUR in 2023" asks for one conversion but names a whole year: ask which day.
    if (periods.length && !isHistory && q.amount !== undefined) return { kind: "ask_day", raw: periods[0]!.raw, example: periods[0]!.from };
    return { kind: "history", from: source, to: targets, start: range.start, end: range.end, clamped: range.clamped, question: q };
  }
  return { kind: "convert", from: source, to: targets, amount: q.amount ?? 1, date: q.date ?? "latest", question: q };
}

const FOLLOW_UP = /^\s*(?:and|what about|how about|same|also|then|now|ok(?:ay)?|in|on|for|to|into|at)\b/i;

function tokensText(tokens: Token[], m: Mention): string {
  return tokens
    .slice(m.at, m.last + 1)
    .map((t) => t.text)
    .join(" ");
}

const NO_CATALOG_INDEX = indexNames(undefined);
const indexes = new WeakMap<Catalog, NameIndex>();
/** One index per catalog object: the model keeps its catalog for a while, so this is built rarely. */
function catalogIndex(catalog: Catalog | undefined): NameIndex {
  if (!catalog) return NO_CATALOG_INDEX;
  let index = indexes.get(catalog);
  if (!index) indexes.set(catalog, (index = indexNames(catalog)));
  return index;
}

function findMentions(tokens: Token[], catalog: Catalog | undefined, index: NameIndex): Mention[] {
  const mentions: Mention[] = [];
  const codes = catalog?.codes;
  const known = (code: string): boolean => (codes ? codes.has(code) : true);
  const prevWord = (i: number): string | undefined => (i > 0 && tokens[i - 1]!.type === "word" ? tokens[i - 1]!.key : undefined);
  const nearAmount = (i: number, last: number): boolean => tokens[i - 1]?.type === "num" || tokens[last + 1]?.type === "num";
  const afterMarker = (i: number): boolean => ["in", "into", "to", "from", "of"].includes(prevWord(i) ?? "");

  for (let i = 0; i < tokens.length && mentions.length < MAX_MENTIONS; i++) {
    const t = tokens[i]!;
    if (t.inDate) continue;
    if (t.type === "prefixed" || (t.type === "sym" && SYMBOLS[t.text])) {
      const code = t.type === "prefixed" ? PREFIXED_DOLLARS[t.text]! : SYMBOLS[t.text]!;
      mentions.push(known(code) ? { at: i, last: i, code } : { at: i, last: i, unknown: t.text });
      continue;
    }
    if (t.type !== "word") continue;

    // The longest name or alias that starts here ("south korean won", "us dollars").
    let phrase: { codes: readonly string[]; last: number } | undefined;
    let key = "";
    for (let j = i; j < tokens.length && j < i + index.maxWords && tokens[j]!.type === "word" && !tokens[j]!.inDate; j++) {
      key = key ? `${key} ${tokens[j]!.key}` : tokens[j]!.key;
      const hit = index.phrases.get(key);
      if (hit && j > i) phrase = { codes: hit, last: j };
    }
    if (phrase) {
      mentions.push(mention(i, phrase.last, tokens, phrase.codes, catalog));
      i = phrase.last;
      continue;
    }

    const raw = t.text.replace(/\./g, "");
    if (/^\p{L}{3}$/u.test(raw)) {
      const upper = raw.toUpperCase();
      const isUpper = raw === upper;
      const lowerOk = !ENGLISH_CODES.has(raw.toLowerCase());
      if (codes) {
        // Lower-case "try" is a verb, except where a currency goes: "100 usd to try".
        const slot = tokens[i - 1]?.type === "num" || (["to", "in", "into", "from"].includes(tokens[i - 1]?.key ?? "") && (!tokens[i + 1] || /^[?.!]$/.test(tokens[i + 1]!.text)));
        if (codes.has(upper) && (isUpper || lowerOk || slot)) {
          mentions.push({ at: i, last: i, code: upper });
          continue;
        }
        if (isUpper && /^[A-Z]{3}$/.test(upper) && !NOT_CODES.has(upper)) {
          mentions.push({ at: i, last: i, unknown: upper });
          continue;
        }
      } else if (isUpper && /^[A-Z]{3}$/.test(upper) && !NOT_CODES.has(upper)) {
        mentions.push({ at: i, last: i, code: upper, uncertain: !KNOWN_WITHOUT_LIST.has(upper) });
        continue;
      } else if (KNOWN_WITHOUT_LIST.has(upper) && lowerOk) {
        mentions.push({ at: i, last: i, code: upper });
        continue;
      }
    }

    const word = t.key;
    if (WORDS_NEEDING_CONTEXT.has(word) && !nearAmount(i, i) && !afterMarker(i)) continue;
    if (word === "won" && tokens[i - 1]?.type !== "num") continue;
    const single = index.phrases.get(word);
    if (single) {
      mentions.push(mention(i, i, tokens, single, catalog));
      continue;
    }
    const convention = CONVENTIONS[word];
    if (convention && known(convention)) {
      mentions.push({ at: i, last: i, code: convention });
      continue;
    }
    const heads = index.heads.get(word);
    if (heads?.length) {
      mentions.push(mention(i, i, tokens, heads, catalog));
      continue;
    }
    // A currency word the list has no currency for ("naira" where only ECB rates are published).
    if (catalog && (convention || AMBIGUOUS_WORDS.has(word))) {
      mentions.push({ at: i, last: i, unknown: t.text });
      continue;
    }
    if (NON_CURRENCY_ASSETS.has(word) || NON_CURRENCY_ASSETS.has(fold(raw))) {
      mentions.push({ at: i, last: i, unknown: t.text });
      continue;
    }
    if (!catalog && AMBIGUOUS_WORDS.has(word)) {
      mentions.push({ at: i, last: i, unknown: t.text, uncertain: true });
      continue;
    }
    if (isCurrencySlot(tokens, i) && /^\p{L}{3,}$/u.test(raw)) mentions.push({ at: i, last: i, unknown: t.text, uncertain: true });
  }
  return mentions;
}

/** A word standing where a currency goes: "1 bitcoin in EUR", "100 USD to doubloons". */
function isCurrencySlot(tokens: Token[], i: number): boolean {
  const t = tokens[i]!;
  if (SLOT_STOPWORDS.has(t.key) || TIME_UNITS.has(t.key) || MULTIPLIERS[t.key] !== undefined || COUNT_WORDS[t.key] !== undefined) return false;
  const prev = tokens[i - 1];
  const next = tokens[i + 1];
  const nextIsBoundary = !next || (next.type === "sym" && /[?.!,;:)]/.test(next.text)) || (next.type === "word" && ["and", "or", "please", "on", "at", "as", "for", "today", "now"].includes(next.key));
  if (prev?.type === "num" && !prev.inDate) {
    // "1 bitcoin in EUR", "100 doubloons?" — but not "5 kids and 100 USD".
    const end = !next || (next.type === "sym" && /[?.!]/.test(next.text) && !tokens[i + 2]);
    return end || (next.type === "word" && ["in", "into", "to", "for", "vs", "against", "worth"].includes(next.key)) || next.text === "=";
  }
  if (prev?.type === "word" && ["into", "to", "in"].includes(prev.key)) {
    // "to" and "in" are too common to trust unless the message already talks about currencies.
    return nextIsBoundary && tokens.some((o) => o.type === "num" && !o.inDate);
  }
  return false;
}

function mention(at: number, last: number, tokens: Token[], candidates: readonly string[], catalog: Catalog | undefined): Mention {
  const list = catalog ? candidates.filter((c) => catalog.codes.has(c)) : [...candidates];
  if (list.length === 1) return { at, last, code: list[0]! };
  const word = at === last ? tokens[at]!.key : tokens.slice(at, last + 1).map((t) => t.text).join(" ");
  if (!list.length) return { at, last, unknown: word };
  const convention = CONVENTIONS[tokens[last]!.key];
  if (convention && list.includes(convention) && at === last) return { at, last, code: convention };
  return { at, last, ambiguous: { word, options: list.slice(0, 12) } };
}

interface AmountFound {
  value?: number | undefined;
  at?: number | undefined;
  problem?: BadAmount | undefined;
  raw?: string | undefined;
}

/** The amount: the first number next to a currency ("5 kids and 100 USD" is 100), else the first number. */
function findAmount(tokens: Token[], mentions: Mention[]): AmountFound {
  let first: AmountFound | undefined;
  const nextToMention = (i: number): boolean => mentions.some((m) => m.last === i - 1 || m.at === i + 1);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === "word" && ["nan", "infinity", "inf"].includes(t.key) && nextToMention(i)) return { problem: "not_a_number", raw: t.text, at: i };
    if (t.type === "sym" && t.text === "∞" && nextToMention(i)) return { problem: "not_a_number", raw: t.text, at: i };
    if (t.type !== "num" || t.inDate) continue;
    const next = tokens[i + 1];
    const prev = tokens[i - 1];
    if (next && (TIME_UNITS.has(next.key) || next.text === "%")) continue;
    if (prev?.type === "word" && COUNT_BEFORE.has(prev.key)) continue;
    let value = numberValue(t);
    let last = i;
    if (next?.type === "word" && MULTIPLIERS[next.key] !== undefined && !mentions.some((m) => m.at === i + 1)) {
      value *= MULTIPLIERS[next.key]!;
      last = i + 1;
    }
    const raw = tokens.slice(i, last + 1).map((x) => x.text).join(" ");
    const prevWord = prev?.type === "word" ? prev.text.toLowerCase() : "";
    const minus = (prev?.type === "sym" && /^[-−–]$/.test(prev.text) && prev.end === t.start && !(tokens[i - 2]?.type === "num" && tokens[i - 2]!.end === prev.start)) || prevWord === "minus" || prevWord === "negative";
    const found: AmountFound = minus
      ? { problem: "negative", raw: `-${raw}`, at: i }
      : !Number.isFinite(value) || value > MAX_AMOUNT
        ? { problem: "too_large", raw, at: i }
        : value === 0
          ? { problem: "zero", raw, at: i }
          : { value, at: i, raw };
    const signBefore = minus && prev?.type === "sym" ? 1 : 0;
    if (mentions.some((m) => m.at === last + 1 || m.last === i - 1 - signBefore)) return found;
    first ??= found;
  }
  return first ?? {};
}

/** "EUR to USD 2024": a year or an amount? Only a number written before its currency ("2024 EUR") is sure. */
function isYearOrAmount(tokens: Token[], mentions: Mention[], at: number, today: string): boolean {
  const t = tokens[at]!;
  if (!/^\d{4}$/.test(t.text) || +t.text < 1999 || +t.text > +today.slice(0, 4)) return false;
  if (mentions.some((m) => m.at === at + 1)) return false;
  const before = mentions.find((m) => m.last === at - 1);
  return !before || isTargetMarked(tokens, before);
}

/** Which currency is converted into which, from the wording; targets keep their order. */
function orderMentions(tokens: Token[], mentions: Mention[], amountAt: number | undefined): { from?: string; to: string[] } {
  const coded = mentions.filter((m) => m.code);
  if (!coded.length) return { to: [] };
  let source: Mention | undefined;
  for (const m of coded) {
    const prev = tokens[m.at - 1];
    const prev2 = tokens[m.at - 2];
    // "from USD", "from the euro", "how many dollars per euro".
    if (prev?.key === "from" || prev?.key === "per" || (prev?.key === "the" && prev2?.key === "from")) source = m;
  }
  if (!source && amountAt !== undefined) {
    // "$100", "USD 100", "100 USD", "3.5k SEK", "100 US dollars".
    const after = tokens[amountAt + 1]?.type === "word" && MULTIPLIERS[tokens[amountAt + 1]!.key] !== undefined ? amountAt + 2 : amountAt + 1;
    source = coded.find((m) => m.at === after) ?? coded.find((m) => m.last === amountAt - 1 && !isTargetMarked(tokens, m));
  }
  // Follow-ups like "and in GBP?" name only targets.
  if (!source && !isTargetMarked(tokens, coded[0]!)) source = coded[0];
  const to: string[] = [];
  for (const m of coded) if (m !== source && !to.includes(m.code!)) to.push(m.code!);
  return { from: source?.code, to };
}

function isTargetMarked(tokens: Token[], m: Mention): boolean {
  const prev = tokens[m.at - 1];
  return (prev?.type === "word" && ["in", "into", "to"].includes(prev.key)) || (prev?.type === "sym" && ["→", ">", "⇒", "➔"].includes(prev.text));
}

function isFollowUp(q: Question, text: string, mentions: Mention[]): boolean {
  if (q.from && q.to.length) return false;
  return FOLLOW_UP.test(text) || !mentions.length || !q.from || (q.from !== undefined && !q.to.length);
}

/** Fills what a follow-up leaves out from the previous question. */
function merge(q: Question, prev: Question, mentions: Mention[], tokens: Token[]): Question {
  let from = q.from;
  let to = q.to;
  // "what about EUR?" / "and GBP?" name a new target; "what about 100 GBP?" a new source.
  // A lone currency after a question that lacked its source ("which peso?" → "MXN") is that source.
  if (from && !to.length && q.amount === undefined && !mentionAfterFrom(tokens, mentions) && prev.from !== undefined) {
    to = [from];
    from = undefined;
  }
  const history = q.history || (prev.history && !q.date);
  const out: Question = {
    from: from ?? prev.from,
    to: to.length ? to : prev.to,
    amount: q.amount ?? prev.amount,
    history,
  };
  if (history) out.range = q.range ?? prev.range;
  else out.date = q.date ?? prev.date;
  return out;
}

function mentionAfterFrom(tokens: Token[], mentions: Mention[]): boolean {
  return mentions.some((m) => tokens[m.at - 1]?.key === "from");
}

function defaultRange(today: string): { start: string; end: string; clamped: boolean } {
  return { start: addDays(today, -30), end: today, clamped: false };
}

const UNIT_DAYS: Record<string, number> = lookup({ day: 1, week: 7, month: 30, quarter: 91, year: 365, decade: 3650, century: 36500, centurie: 36500 });

function historyRange(
  lower: string,
  tokens: Token[],
  days: string[],
  periods: Array<{ from: string; to: string }>,
  today: string,
): { start: string; end: string; clamped: boolean } | undefined {
  let start: string | undefined;
  let end: string | undefined;
  if (days.length >= 2) [start, end] = [days[0]!, days[1]!].sort() as [string, string];
  else if (periods.length >= 2) [start, end] = [periods[0]!.from, periods[1]!.to].sort() as [string, string];
  else if (days.length === 1 && periods.length === 1) [start, end] = [days[0]!, periods[0]!.to].sort() as [string, string];
  else if (periods.length === 1) [start, end] = /\bsince\b/.test(lower) ? [periods[0]!.from, today] : [periods[0]!.from, periods[0]!.to];
  else if (days.length === 1) [start, end] = [days[0]!, today];
  else {
    // "last 10 days", "past year", "last 300000 years": the count is read as a number and bounded
    // before any date arithmetic, so no count can overflow a Date.
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.type !== "word" || !["last", "past"].includes(t.key)) continue;
      let j = i + 1;
      let count = 1;
      const n = tokens[j];
      if (n?.type === "num") {
        count = numberValue(n);
        j++;
      } else if (n && COUNT_WORDS[n.key] !== undefined) {
        count = COUNT_WORDS[n.key]!;
        j++;
      } else if (n && ["few", "several", "couple"].includes(n.key)) {
        count = 3;
        j += n.key === "couple" && tokens[j + 1]?.key === "of" ? 2 : 1;
      }
      const unit = tokens[j]?.key;
      if (!unit || UNIT_DAYS[unit] === undefined) continue;
      const span = Number.isFinite(count) ? Math.max(1, count) * UNIT_DAYS[unit]! : Number.POSITIVE_INFINITY;
      end = today;
      start = addDays(today, -Math.min(span, MAX_HISTORY_DAYS + 1));
      break;
    }
    if (!start) return undefined;
  }
  if (end! > today) end = today;
  if (start! > end!) start = end;
  if (daysBetween(start!, end!) > MAX_HISTORY_DAYS) return { start: addDays(end!, -MAX_HISTORY_DAYS), end: end!, clamped: true };
  return { start: start!, end: end!, clamped: false };
}
