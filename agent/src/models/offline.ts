// The model used without Gemini credentials: a deterministic reader of currency conversions behind
// the same Model interface. It plans get_exchange_rate (and, to learn names, list_currencies) calls
// from the user's words and the conversation, then words the answer from the tools' declared outputs
// (mcp-server/src/tools/*.ts). It never converts a currency, amount or date the user did not write:
// an unknown word or number is named back, an ambiguous name asked about, two amounts refused.
// Anything else (a range of dates too) gets one short answer about what it can do.

import type { Content, FunctionCall, Model, ModelReply, ModelRequest, ToolSpec } from "./types.js";

const RATE_TOOL = "get_exchange_rate";
const LIST_TOOL = "list_currencies";

const GEMINI = "set GOOGLE_API_KEY, or GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT";
export const HELP =
  "I'm running without a language model (offline mode), so I only convert currencies, e.g. " +
  '"What is 100 USD in EUR?", "€30 in dollars and pounds on 15 January 2024", then "and in JPY?", or ' +
  `"Which currencies do you know?". To chat about anything else, switch to Gemini: ${GEMINI}.`;

/** Codes read without the list. None is an English word, so lower case ("usd") counts too. */
const COMMON = new Set("USD EUR GBP JPY CHF CAD AUD NZD CNY HKD SGD SEK NOK DKK".split(" "));
/** Words (singular, see key()) and symbols that mean one currency whatever the list says. */
const WORDS = new Map([
  ...Object.entries({ dollar: "USD", "us dollar": "USD", euro: "EUR", yen: "JPY" }),
  ...Object.entries({ pound: "GBP", sterling: "GBP" }),
]);
/** Symbols, upper case; a dollar's letters ("A$") are part of its symbol, other letters unknown. */
const SYMBOLS = new Map([
  ...Object.entries({ "€": "EUR", $: "USD", "£": "GBP", "¥": "JPY", US$: "USD" }),
  ...Object.entries({ A$: "AUD", C$: "CAD", NZ$: "NZD", HK$: "HKD", S$: "SGD" }),
]);
/** Words never currencies, even where one goes ("100 to", "in the"), nor qualifiers ("how many"). */
const STOP = new Set(
  `a an the it this that me and or is to in into from of on at for per how many much what which
  my your our their some those these convert exchange change buy sell send spend`.split(/\s+/),
);
const MONTHS =
  "january february march april may june july august september october november december";
const MONTH = `(${MONTHS.replaceAll(" ", "|")})`;
/** One day: 2024-01-15 or 15 January 2024. */
const DAY = new RegExp(`\\b\\d{4}-\\d{2}-\\d{2}\\b|\\b(\\d{1,2}) ${MONTH} (\\d{4})\\b`, "gi");
const YEAR = "(?:in|since|during) (?:19|20)\\d\\d";
/** Dates that are no one day, once the days are out: "March 2023", "15 January", "in 2023". */
const NOT_A_DAY = new RegExp(`\\b\\d+ ${MONTH}\\b|\\b${MONTH} \\d+\\b|\\b${YEAR}\\b`, "gi");
/** A number is all its digits, dots and commas ("1.234,56" is one), read by AMOUNT or not at all. */
const TOKEN = /(\p{L}{0,3}[€$£¥])|(-?\d(?:[\d.,]*\d)?(?:e[+-]?\d+)?)|(\p{L}+)|([?!.,;:])/giu;
/**
 * Amounts are read one way, so each has one meaning: a dot before the decimals, commas (or nothing)
 * between thousands. Sign and exponent stay, so that the tool's checks see "-5" or "1e308" as typed.
 */
const AMOUNT = /^-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/i;
/** The other way ("1.234,56", "12,5"), only to say how to write it. */
const DECIMAL_COMMA = /^-?\d{1,3}(?:\.\d{3})*(?:,\d+)?$/;
const LIST_QUESTION =
  /\b(?:which|what|list|show|all)\b.{0,30}\bcurrencies\b|\bcurrencies\b.{0,30}\b(?:do you|know|support|available)\b/i;
/** One answer converts into at most this many currencies (the chat loop runs them in parallel). */
const MAX_TARGETS = 10;
/** Bounds on what is kept of one currency list, so a huge answer cannot grow the cache. */
const MAX_CODES = 500;
const MAX_NAME = 60;
/** Messages are read up to this length; earlier user messages read for follow-ups, at most this many. */
const MAX_CHARS = 8000;
const FOLLOW_UP_DEPTH = 8;
/** Names are matched up to this many words; longer ones by their last word ("… Mark"). */
const MAX_NAME_WORDS = 5;

/** What one message, or a conversation so far, asks. */
interface Question {
  from?: string | undefined;
  to: string[];
  /** A number as written that AMOUNT does not read ("1.234,56", "15.01.2024"): never converted. */
  amount?: number | string | undefined;
  /** More than one amount: one conversion each, which it does not pair up with their currencies. */
  several?: boolean | undefined;
  /** YYYY-MM-DD, when one day is named; else what was written ("March 2023", two days): no rate. */
  date?: string | undefined;
  /** A word in a currency's place that names none. */
  unknown?: string | undefined;
  /** A name several listed currencies share ("peso"). */
  ambiguous?: { word: string; codes: string[] } | undefined;
  /** A code read without the list that the common ones lack: the list would say whether it exists. */
  uncertain?: boolean | undefined;
  /** The only currency, with no amount and not after "from": a follow-up's new target ("what about JPY?"). */
  lone?: string | undefined;
}

interface Catalog {
  codes: ReadonlyMap<string, string>;
  /** Name phrase (see key()) → the codes it names; several means ambiguous. */
  names: ReadonlyMap<string, string[]>;
  /** Last words of names ("won", "real", "peso") → their codes: currencies only where one goes. */
  heads: ReadonlyMap<string, string[]>;
  /** Code → the words before its name's last word, and their initials ("united", "state", "us"). */
  qualifiers: ReadonlyMap<string, ReadonlySet<string>>;
}
/** Without the list, only the fixed words are names. */
const NO_LIST = {
  names: new Map([...WORDS].map(([word, code]) => [word, [code]])),
  heads: new Map<string, string[]>(),
  qualifiers: new Map<string, Set<string>>(),
};

type Answered = { call: FunctionCall; response: Record<string, unknown> };

interface Token {
  kind: "num" | "sym" | "word" | "punct";
  text: string;
  key: string;
}

/** Lower case, no accents, singular: "Złotys" and "zloty" are one key. */
function key(word: string): string {
  const w = word.normalize("NFD").replace(/\p{M}/gu, "").replace(/ł/gi, "l").toLowerCase();
  return w.length > 3 && w.endsWith("s") && !w.endsWith("ss") ? w.slice(0, -1) : w;
}

/** list_currencies' declared output, {currencies: {CODE: name}}, else its text ("CODE Name" lines). */
function readCatalog(output: unknown): Catalog | undefined {
  const codes = new Map<string, string>();
  const add = (code: string, name: unknown): void => {
    if (codes.size < MAX_CODES && /^[A-Z]{3}$/.test(code) && typeof name === "string")
      codes.set(code, name.trim().slice(0, MAX_NAME));
  };
  if (isRecord(output) && isRecord(output.currencies)) {
    for (const [c, n] of Object.entries(output.currencies)) add(c, n);
  } else if (typeof output === "string") {
    for (const m of output.matchAll(/^([A-Z]{3}) ([^(\n]+)/gm)) add(m[1]!, m[2]);
  }
  if (!codes.size) return undefined;
  const names = new Map<string, string[]>();
  const heads = new Map<string, string[]>();
  const qualifiers = new Map<string, Set<string>>();
  for (const [code, name] of codes) {
    const words = (name.replace(/\(.*/, "").match(/\p{L}+/gu) ?? []).map(key);
    if (!words.length) continue;
    const head = words.pop()!;
    names.set([...words, head].join(" "), [code]);
    heads.set(head, [...(heads.get(head) ?? []), code]);
    const initials = words.length > 1 ? [words.map((w) => w[0]).join("")] : [];
    qualifiers.set(code, new Set([...words, ...initials]));
  }
  // The fixed words mean what they mean whatever other currencies share them ("pound").
  for (const [word, codes] of NO_LIST.names) names.set(word, codes);
  return { codes, names, heads, qualifiers };
}

/** The message without its dates, whose numbers are no amounts, and the date (see Question). */
function takeDates(text: string): { date: string | undefined; rest: string } {
  const days = [...text.matchAll(DAY)].map(([written, day, name, year]) => {
    if (!name) return written;
    const month = String(MONTHS.split(" ").indexOf(name.toLowerCase()) + 1).padStart(2, "0");
    return `${year}-${month}-${day!.padStart(2, "0")}`;
  });
  const rest = text.replace(DAY, " ");
  const found = [...days, ...(rest.match(NOT_A_DAY) ?? [])];
  return { date: found.join(" and ") || undefined, rest: rest.replace(NOT_A_DAY, " ") };
}

function tokenize(text: string): Token[] {
  return [...text.matchAll(TOKEN)].map((m): Token => {
    const kind = m[1] ? "sym" : m[2] ? "num" : m[3] ? "word" : "punct";
    return { kind, text: m[0], key: kind === "word" ? key(m[0]) : m[0] };
  });
}

const stop = (t: Token | undefined): boolean => STOP.has(t?.text.toLowerCase() ?? "");
/** The word before token i is one of `words`. */
const after = (tokens: Token[], i: number, words: string[]): boolean =>
  words.includes(tokens[i - 1]?.key ?? "");

/**
 * Where a currency goes: after a number or "how many", or after "in"/"to" at the end of a phrase
 * ("… to doubloons?"); for a word that looks like a currency (a code, a name's bare last word), also
 * before "to"/"in" ("XYZ to EUR", "francs to euros"), which any verb can be ("want to"). Codes the
 * list or the common set has, and full names, count anywhere.
 */
function inPlace(tokens: Token[], i: number, looksLikeOne = false): boolean {
  const next = tokens[i + 1];
  if (tokens[i - 1]?.kind === "num" || after(tokens, i, ["many"])) return true;
  if (looksLikeOne && ["to", "in", "into"].includes(next?.key ?? "")) return true;
  const end = !next || next.kind === "punct" || ["and", "or", "on"].includes(next.key);
  return end && after(tokens, i, ["in", "into", "to", "from"]);
}

/** The currencies a message names, in order; words in a currency's place that name none are strays. */
function findMentions(tokens: Token[], catalog: Catalog | undefined) {
  const mentions: Array<{ at: number; code: string }> = [];
  const strays: number[] = [];
  let ambiguous: Question["ambiguous"];
  let uncertain = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const symbol = t.kind === "sym" ? SYMBOLS.get(t.text.toUpperCase()) : undefined;
    if (symbol) mentions.push({ at: i, code: symbol });
    else if (t.kind === "sym") strays.push(i);
    if (t.kind !== "word" || stop(t)) continue;
    const name = findName(tokens, i, catalog);
    if (name && (!name.head || inPlace(tokens, i, true))) {
      // A word before a name, where a currency goes ("to Aussie dollars"), is a qualifier: named back.
      const [place, before] = [tokens[i - 2], tokens[i - 1]];
      const qualifier = before?.kind === "word" && !stop(before) && mentions.at(-1)?.at !== i - 1;
      if (qualifier && (place?.kind !== "word" || stop(place))) strays.push(i - 1);
      if (name.codes.length > 1) ambiguous ??= { word: name.phrase, codes: name.codes };
      else mentions.push({ at: i, code: name.codes[0]! });
      i = name.last;
      continue;
    }
    const upper = t.text.toUpperCase();
    const code =
      t.text.length === 3 && (t.text === upper || COMMON.has(upper) || inPlace(tokens, i, true));
    if (code && (catalog ? catalog.codes.has(upper) : COMMON.has(upper)))
      mentions.push({ at: i, code: upper });
    else if (code && !catalog && inPlace(tokens, i, true)) {
      // Without the list, an unfamiliar code is taken as written; the list, once fetched, decides.
      uncertain = true;
      mentions.push({ at: i, code: upper });
    } else if (inPlace(tokens, i, code) && !name) strays.push(i);
  }
  return { mentions, strays, uncertain, ambiguous };
}

/** Reads one message against the list when there is one (else against the common codes and words). */
function parse(message: string, catalog: Catalog | undefined): Question {
  const { date, rest } = takeDates(message.slice(0, MAX_CHARS));
  const tokens = tokenize(rest);
  const { mentions, strays, uncertain, ambiguous } = findMentions(tokens, catalog);
  const beside = (i: number): boolean => mentions.some((m) => Math.abs(m.at - i) === 1);
  const numbers = tokens.flatMap((t, i) => (t.kind === "num" ? [i] : []));
  // The amount: the first number next to a currency ("5 kids and 100 USD" is 100), else the first.
  const at = numbers.find(beside) ?? numbers[0] ?? -1;
  // Numbers that count no word ("5 kids") are amounts; several it does not pair with currencies.
  const counted = (i: number): boolean => tokens[i + 1]?.kind === "word" && !stop(tokens[i + 1]);
  const several = numbers.filter((i) => beside(i) || !counted(i)).length > 1;
  // A number it cannot read, anywhere, is named back: it may be the amount, or a date.
  const unread = tokens.find((t) => t.kind === "num" && !AMOUNT.test(t.text))?.text;
  const amount = unread ?? (at >= 0 ? Number(tokens[at]!.text.replace(/,/g, "")) : undefined);
  // The source: the currency next to the amount ("100 USD", "€30", not "to EUR 50"), else the one
  // after "from", else the first that no "to"/"in" marks as a target.
  const targeted = (m: { at: number }): boolean => after(tokens, m.at, ["to", "in", "into"]);
  const source =
    mentions.find((m) => m.at === at + 1 && at >= 0) ??
    mentions.find((m) => m.at === at - 1 && !targeted(m)) ??
    mentions.find((m) => after(tokens, m.at, ["from"])) ??
    mentions.find((m) => !targeted(m));
  const from = source?.code;
  const to = [...new Set(mentions.filter((m) => m.code !== from).map((m) => m.code))];
  const only = mentions.length === 1 && at < 0 ? mentions[0] : undefined;
  const lone = only && !after(tokens, only.at, ["from"]) ? only.code : undefined;
  // A stray counts only in a message about currencies ("weather in Paris?" is not), and after a
  // number only if that number is the amount.
  const stray = strays.find((i) => tokens[i - 1]?.kind !== "num" || i === at + 1);
  const unknown =
    (mentions.length || at >= 0) && stray !== undefined ? tokens[stray]!.text : undefined;
  return { from, to, amount, several, date, ambiguous, uncertain, lone, unknown };
}

/**
 * The longest name starting at token i: a listed name or fixed word ("swiss francs", "euros"), or a
 * name's last word after words of that name or their initials ("Korean won", "UAE dirhams"); else a
 * name's bare last word ("pesos"), which is a currency only where one goes.
 */
function findName(tokens: Token[], i: number, catalog: Catalog | undefined) {
  const { names, heads, qualifiers } = catalog ?? NO_LIST;
  let found: { codes: string[]; phrase: string; last: number; head?: boolean } | undefined;
  const words: string[] = [];
  for (let j = i; j < Math.min(tokens.length, i + MAX_NAME_WORDS); j++) {
    if (tokens[j]!.kind !== "word") break;
    words.push(tokens[j]!.key);
    const qualified = heads
      .get(tokens[j]!.key)
      ?.filter((code) => j > i && words.slice(0, -1).every((w) => qualifiers.get(code)?.has(w)));
    const codes = names.get(words.join(" ")) ?? (qualified?.length ? qualified : undefined);
    if (codes) found = { codes, phrase: words.join(" "), last: j };
  }
  const head = heads.get(tokens[i]!.key);
  return found ?? (head && { codes: head, phrase: tokens[i]!.key, last: i, head: true });
}

/** A follow-up ("and in GBP?", "what about 250?", "MXN") takes what it leaves out from the question before. */
function merge(q: Question, prev: Question | undefined): Question {
  if (!prev || (q.from && q.to.length) || q.unknown) return q;
  let { from, to } = q;
  // A lone currency is the source the question before lacked ("which peso?" → "MXN"), else a new target.
  if (q.lone) [from, to] = prev.from ? [undefined, [q.lone]] : [q.lone, []];
  // An ambiguous source stays unknown: the next message names it.
  if (!q.ambiguous) from ??= prev.from;
  return {
    ...q,
    from,
    to: (to.length ? to : prev.to).filter((c) => c !== from),
    // An amount it could not read stays so until one is written: a follow-up converts no other.
    amount: q.amount ?? prev.amount,
    several: q.amount === undefined ? prev.several : q.several,
    date: q.date ?? prev.date,
  };
}

const says = (q: Question): boolean =>
  !!(q.from || q.to.length || q.amount !== undefined || q.date || q.unknown || q.ambiguous);

export class OfflineModel implements Model {
  readonly name = "offline";
  #catalog: { catalog: Catalog; at: number } | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;

  /** The currency list is kept for catalogTtlMs (default an hour); `now` is the cache's clock. */
  constructor(options: { catalogTtlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.catalogTtlMs ?? 3_600_000;
    this.#now = options.now ?? Date.now;
  }

  async generate({ contents, tools }: ModelRequest): Promise<ModelReply> {
    const rateArgs = ["currency_from", "currency_to", "currency_date", "amount"];
    if (!tools.some((t) => t.name === RATE_TOOL && accepts(t, rateArgs)))
      return say(otherServer(tools));
    const start = contents.findLastIndex(typed);
    if (start < 0) return say(HELP);
    // The calls made since the user's message: responses follow the calls in order (chat.ts).
    const parts = contents.slice(start + 1).flatMap((c) => c.parts);
    const calls = parts.flatMap((p) => ("functionCall" in p ? [p.functionCall] : []));
    const responses = parts.flatMap((p) =>
      "functionResponse" in p ? [p.functionResponse.response] : [],
    );
    const conversions = calls.flatMap((call, i) =>
      call.name === RATE_TOOL && responses[i] ? [{ call, response: responses[i] }] : [],
    );
    if (conversions.length) return say(conversions.map(wordConversion).join(" "));

    const listed = responses[calls.findIndex((c) => c.name === LIST_TOOL)];
    const read = listed && readCatalog(listed.output);
    if (read) this.#catalog = { catalog: read, at: this.#now() };
    if (this.#catalog && this.#now() - this.#catalog.at >= this.#ttlMs) this.#catalog = undefined;
    const catalog = this.#catalog?.catalog;
    // The list is asked for at most once a turn, and only while none is cached.
    const canList = !listed && !catalog && tools.some((t) => t.name === LIST_TOOL);
    const message = textOf(contents[start]!);
    if (LIST_QUESTION.test(message)) return canList ? listCall : say(wordCatalog(catalog, listed));
    const own = parse(message, catalog);
    const q = says(own) ? merge(own, previous(contents.slice(0, start), catalog)) : own;
    const incomplete = (q.from || q.to.length || q.ambiguous) && !(q.from && q.to.length);
    if (canList && (q.unknown || q.uncertain || incomplete)) return listCall;
    return plan(q, catalog);
  }
}

/** The question the conversation had reached: each earlier user message merged into the one before. */
function previous(history: readonly Content[], catalog?: Catalog): Question | undefined {
  let prev: Question | undefined;
  for (const message of history.filter(typed).slice(-FOLLOW_UP_DEPTH).map(textOf)) {
    const q = parse(message, catalog);
    if (says(q) && !LIST_QUESTION.test(message)) prev = merge(q, prev);
  }
  return prev;
}

/** The calls for a question, or the answer when it cannot be converted as asked. */
function plan(q: Question, catalog: Catalog | undefined): ModelReply {
  const refusal = whyNot(q, catalog);
  if (refusal) return say(refusal);
  if (!q.from || !q.to.length) return say(HELP);
  // The date only when asked for: the tool's own default is the latest rate.
  const args = {
    currency_from: q.from,
    amount: q.amount ?? 1,
    ...(q.date && { currency_date: q.date }),
  };
  return {
    functionCalls: q.to.map((to) => ({ name: RATE_TOOL, args: { ...args, currency_to: to } })),
  };
}

/** Why a question cannot be converted as asked, if it cannot. */
function whyNot(q: Question, catalog: Catalog | undefined): string | undefined {
  if (q.unknown)
    return `I don't know the currency "${q.unknown.slice(0, 40)}", so I haven't converted anything. Ask "which currencies do you know?" to see the ones I can convert.`;
  if (q.ambiguous) {
    const { word, codes } = q.ambiguous;
    const options = codes.slice(0, 12).map((c) => `${catalog?.codes.get(c) ?? c} (${c})`);
    const which = `${options.slice(0, -1).join(", ")} or ${options.at(-1)}`;
    return `Which ${word} do you mean: ${which}? Tell me the code and I'll convert it.`;
  }
  if (typeof q.amount === "string") return q.from || q.to.length ? unreadNumber(q.amount) : HELP;
  // A range or a month ("March 2023") is no one day's rate: the help says what it reads.
  if (q.date && !/^\d{4}-\d{2}-\d{2}$/.test(q.date)) return HELP;
  if (q.several) return "I convert one amount at a time; please ask about each amount on its own.";
  if (q.to.length > MAX_TARGETS)
    return `I can convert into at most ${MAX_TARGETS} currencies at once; please ask for fewer.`;
}

function unreadNumber(written: string): string {
  const text = written.slice(0, 40);
  const meant = DECIMAL_COMMA.test(text) ? text.replaceAll(".", "").replace(",", ".") : undefined;
  const example = meant ? ` If you mean ${meant}, write ${meant}.` : "";
  return `I couldn't read "${text}", so I haven't converted anything: I read a dot as the decimal point, commas (or nothing) between thousands, and dates as 2024-01-15 or 15 January 2024.${example}`;
}

/** The tool takes the arguments the model sends (a schema that declares no properties takes any). */
function accepts(tool: ToolSpec, args: string[]): boolean {
  const props = tool.inputSchema.properties;
  return !isRecord(props) || args.every((a) => a in props);
}

function otherServer(tools: readonly ToolSpec[]): string {
  const names = tools.slice(0, 20).map((t) => t.name.slice(0, 60));
  return `This MCP server offers ${names.join(", ") || "no tools"}, not the currency conversion (${RATE_TOOL}) that I, the offline model, can run. Using its tools needs a language model: ${GEMINI}.`;
}

/** The answer to "which currencies?": the list, else why there is none. */
function wordCatalog(catalog?: Catalog, listed?: Record<string, unknown>): string {
  if (!catalog && listed)
    return `I couldn't get the list of currencies: ${sentence(listed.error ?? "it was empty")}`;
  if (!catalog)
    return 'This server offers no list of currencies; ask by ISO code, e.g. "100 USD in EUR".';
  const codes = [...catalog.codes.keys()];
  const example = `"100 ${codes[0]} in ${codes[1] ?? codes[0]}"`;
  return `I know ${codes.length} currencies, e.g. ${codes.slice(0, 12).join(", ")}. Ask about any of them by code or name, e.g. ${example}.`;
}

/** One conversion in words from get_exchange_rate's declared output (else its text), or its error text. */
function wordConversion({ call, response }: Answered): string {
  const { currency_from: from, currency_to: to, currency_date: asked, amount } = call.args;
  const { output, error } = response;
  if (error !== undefined)
    return `I couldn't convert ${String(from)} to ${String(to)}: ${sentence(error)}`;
  if (typeof output === "string") return sentence(output);
  const out = isRecord(output) ? output : {};
  const quote = typeof out.quote === "string" ? out.quote : String(to);
  const value = isRecord(out.rates) ? out.rates[quote] : undefined;
  if (typeof value !== "number")
    return `The rate service gave no ${String(from)} to ${quote} amount.`;
  const day = String(out.date);
  const earlier = typeof asked === "string" && asked !== "latest" && asked !== day;
  const before = earlier ? `, the latest rate on or before ${asked}` : "";
  const source = typeof out.source === "string" ? ` (${out.source})` : "";
  return `${String(out.amount ?? amount)} ${String(out.base ?? from)} = ${value} ${quote} on ${day}${before}${source}.`;
}

const listCall: ModelReply = { functionCalls: [{ name: LIST_TOOL, args: {} }] };
const say = (text: string): ModelReply => ({ text });
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const sentence = (v: unknown): string => {
  const text = String(v).slice(0, 500).trim();
  return text.replace(/([^.!?])$/, "$1.");
};
/** A message the user typed (tool results come back as user content too, without text). */
const typed = (c: Content): boolean => c.role === "user" && c.parts.some((p) => "text" in p);
const textOf = (c: Content): string =>
  c.parts.map((p) => ("text" in p && !p.thought ? p.text : "")).join(" ");
