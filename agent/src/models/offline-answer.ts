// How the offline model words its answers. Answers speak of exchange rates and currencies only:
// never a tool name, the protocol, an HTTP status or an address. A tool's own error text is read to
// choose a sentence, never repeated (it can carry parameter names and upstream details, which the
// chat loop's tool_calls record and the logs keep).

import type { Catalog } from "./offline-catalog.js";
import { MAX_AMOUNT, MAX_HISTORY_DAYS, type Intent } from "./offline-parser.js";
import type { FunctionCall, FunctionResponse, ToolSpec } from "./types.js";

export const HELP =
  "I'm running without a language model (offline mode), so I can only answer exchange-rate questions, e.g. " +
  '"What is 100 USD in EUR?", "100 USD to EUR and GBP", "EUR to CHF rate on 2024-01-15", ' +
  '"USD to GBP history for the last week" or "Which currencies do you know?". ' +
  "Set GOOGLE_API_KEY or Vertex AI to chat about anything else.";

export const RATE_TOOL = "get_exchange_rate";
export const HISTORY_TOOL = "get_exchange_rate_history";
export const LIST_TOOL = "list_currencies";

export const UNAVAILABLE = "I can't look up exchange rates right now: the rate service doesn't offer that lookup. Please try again later.";

export interface Answered {
  call: FunctionCall;
  response: FunctionResponse;
}

const label = (code: string, catalog: Catalog | undefined): string => {
  const name = catalog?.codes.get(code);
  return name ? `${name} (${code})` : code;
};
const quote = (s: string): string => `"${s.length > 40 ? `${s.slice(0, 40)}…` : s}"`;
const list = (items: string[], last = "and"): string => (items.length < 2 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} ${last} ${items[items.length - 1]}`);
const fmt = (n: number): string => String(n);

/** The answer to a message that needs no tool, or cannot be answered. */
export function wordIntent(intent: Intent, catalog: Catalog | undefined): string {
  switch (intent.kind) {
    case "decline":
      switch (intent.reason) {
        case "no_currency":
          return `I couldn't tell which currencies you mean. Name them with codes (USD, EUR), names (dollars, euros) or symbols ($, €). ${HELP}`;
        case "advice":
          return "I can't predict exchange rates or give trading advice; I can tell you today's or past exchange rates.";
        default:
          return HELP;
      }
    case "unknown_currency": {
      const words = intent.words.map(quote);
      if (!intent.checked) return `I don't know ${list(words, "or")} as a currency I can look up, so I haven't converted anything. Use ISO codes such as USD or EUR.`;
      return words.length === 1
        ? `${words[0]} isn't a currency the exchange-rate source publishes, so I can't convert it. Ask "which currencies do you know?" to see the ones it has.`
        : `${list(words)} aren't currencies the exchange-rate source publishes, so I can't convert them. Ask "which currencies do you know?" to see the ones it has.`;
    }
    case "ask_which":
      return `Which ${intent.word} do you mean: ${list(intent.options.map((c) => label(c, catalog)), "or")}? Tell me the code and I'll convert it.`;
    case "ask_source": {
      const example = intent.to[0] === "USD" ? "EUR" : "USD";
      return `Which currency should I convert into ${list(intent.to)}? For example: "100 ${example} in ${intent.to[0]}".`;
    }
    case "ask_target": {
      const what = `${intent.amount !== undefined ? `${fmt(intent.amount)} ` : ""}${intent.from}`;
      const example = intent.from === "EUR" ? "USD" : "EUR";
      return `Which currency should I convert ${what} into? For example: "${what} in ${example}".`;
    }
    case "ask_day":
      return `Which day of ${intent.raw} do you mean? Give a date such as ${intent.example}, or ask for the history over ${intent.raw}.`;
    case "bad_amount":
      switch (intent.problem) {
        case "zero":
          return "The amount to convert must be more than zero.";
        case "negative":
          return `I can only convert positive amounts, and ${intent.raw} isn't one.`;
        case "not_a_number":
          return `${quote(intent.raw)} isn't an amount I can convert: give a number such as 100 or 2,500.50.`;
        case "year_or_amount":
          return `Is ${quote(intent.raw)} an amount or a year? Write "${intent.raw} EUR" for an amount, or "in ${intent.raw}" or a full date such as ${intent.raw}-06-28 for a year.`;
        case "too_large":
          return `${quote(intent.raw)} is more than I can convert: the largest amount is ${MAX_AMOUNT.toLocaleString("en-US")}.`;
      }
      break;
    case "bad_date":
      switch (intent.problem) {
        case "ambiguous":
          return `${quote(intent.raw)} could be read as two different dates (day/month or month/day). Write it like 2024-01-15 or 15 January 2024.`;
        case "invalid":
          return `${quote(intent.raw)} isn't a real calendar date.`;
        case "future":
          return `${quote(intent.raw)} is in the future: I can only give today's or past exchange rates.`;
        default:
          return `I couldn't read the date ${quote(intent.raw)}. Write it like 2024-01-15, 15 January 2024 or "yesterday".`;
      }
    case "too_many_targets":
      return `I can convert into at most ${intent.max} currencies at once; please ask for fewer.`;
    case "list":
      return wordAsked(intent.asked, catalog);
    default:
      return HELP;
  }
  return HELP;
}

function wordAsked(asked: Array<{ word: string; code?: string | undefined }>, catalog: Catalog | undefined): string {
  if (!catalog) return "I can't check the list of currencies right now; please try again in a moment.";
  return asked
    .map(({ word, code }) =>
      code && catalog.codes.has(code)
        ? `Yes: ${label(code, catalog)} is one of the ${catalog.codes.size} currencies I can convert.`
        : `No: ${quote(word)} isn't a currency the exchange-rate source publishes.`,
    )
    .join(" ");
}

export function wordCatalog(catalog: Catalog | undefined): string {
  if (!catalog) return "I couldn't get the list of currencies just now; please try again in a moment.";
  const entries = [...catalog.codes];
  if (entries.length <= 40) return `I know ${entries.length} currencies: ${entries.map(([c, n]) => (n ? `${c} (${n})` : c)).join(", ")}.`;
  return `I know ${entries.length} currencies: ${entries.map(([c]) => c).join(", ")}. Ask about any of them by code or by name.`;
}

type Structured = Record<string, unknown>;

/** Where the rates come from: a provider field if the tool gives one, else what the tool says it uses. */
function sourceOf(out: Structured, tools: readonly ToolSpec[], tool: string): { phrase: string; providers?: string | undefined } {
  const names: string[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === "string" && v.trim()) names.push(v.trim().slice(0, 60));
    else if (Array.isArray(v)) v.slice(0, 10).forEach(collect);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      collect(o.name ?? o.key ?? o.id ?? o.code);
    }
  };
  collect(out.providers ?? out.provider ?? out.sources ?? out.source);
  // Only plain names: a field holding an address is not something to show.
  const clean = [...new Set(names.filter((n) => !/[/:@]/.test(n)))];
  const description = tools.find((t) => t.name === tool)?.description ?? "";
  const ecb = /\bECB\b|European Central Bank/i.test(description) && (!clean.length || clean.join() === "ECB");
  return { phrase: ecb ? "the ECB reference rate" : "the exchange rate", providers: clean.length && !ecb ? clean.join(", ") : undefined };
}

const isRecord = (v: unknown): v is Structured => typeof v === "object" && v !== null && !Array.isArray(v);

function errorOf(res: FunctionResponse): string | undefined {
  const r = res.response;
  if (typeof r.error === "string") return r.error;
  if (r.error !== undefined) return JSON.stringify(r.error);
  return undefined;
}

export function isNotFoundError(res: FunctionResponse): boolean {
  const e = errorOf(res);
  return e !== undefined && /not found|no exchange rate|unknown currency|not supported|unsupported|invalid currency|no .* rate/i.test(e);
}

/** Explains a failed call in the user's terms; the error text only picks the sentence. */
function wordError(call: FunctionCall, error: string, catalog: Catalog | undefined): string {
  const a = call.args;
  const pair = `${String(a.currency_from)} to ${String(a.currency_to)}`;
  const unknown = [a.currency_from, a.currency_to].filter((c): c is string => typeof c === "string" && catalog !== undefined && !catalog.codes.has(c));
  if (unknown.length) return `${list(unknown.map(quote))} ${unknown.length > 1 ? "aren't currencies" : "isn't a currency"} the exchange-rate source publishes.`;
  const when = typeof a.currency_date === "string" && a.currency_date !== "latest" ? ` on ${a.currency_date}` : typeof a.start_date === "string" ? ` from ${a.start_date}` : "";
  const early = /start(?:s)? on (\d{4}-\d{2}-\d{2})/i.exec(error);
  if (early) return `There are no ${pair} rates${when}: the rates start on ${early[1]}.`;
  if (/in the future/i.test(error)) return `There are no ${pair} rates${when} yet: that date is in the future.`;
  if (/longer than|too long|too many days/i.test(error)) return `That period is longer than I can show at once; ask for ${MAX_HISTORY_DAYS} days or fewer.`;
  if (/not found|no exchange rate|unknown currency|no .* rate/i.test(error)) return `I found no ${pair} exchange rate${when}.`;
  if (/both .* the rate is always 1|same currency/i.test(error)) return `${pair} is the same currency: the rate is always 1.`;
  if (/reach|unavailable|timed? ?out|temporar|connect|network|refused|50\d|429|too many requests|could not be called/i.test(error)) {
    return `I couldn't reach the exchange-rate source just now, so I don't have the ${pair} rate; please try again in a moment.`;
  }
  return `I couldn't get the ${pair} exchange rate just now; please try again in a moment.`;
}

/** The answer to one turn's rate or history calls. */
export function wordResults(answered: Answered[], catalog: Catalog | undefined, tools: readonly ToolSpec[], note?: string): string {
  const sentences: string[] = [];
  const conversions: Array<{ text: string; date: string; source: string; providers?: string | undefined; asked: unknown }> = [];
  for (const { call, response } of answered) {
    const error = errorOf(response);
    if (error !== undefined) {
      sentences.push(wordError(call, error, catalog));
      continue;
    }
    const output = response.response.output;
    const out: Structured = isRecord(output) ? output : {};
    if (call.name === RATE_TOOL) {
      const to = String(call.args.currency_to);
      const rates = isRecord(out.rates) ? out.rates : {};
      let value = rates[to];
      if (typeof value !== "number") {
        const only = Object.values(rates);
        value = only.length === 1 ? only[0] : typeof out.rate === "number" && typeof out.amount === "number" ? out.rate * out.amount : undefined;
      }
      if (typeof value !== "number" || !Number.isFinite(value)) {
        sentences.push(`The exchange-rate source returned no ${String(call.args.currency_from)} to ${to} rate.`);
        continue;
      }
      const amount = typeof out.amount === "number" ? out.amount : Number(call.args.amount ?? 1);
      const base = typeof out.base === "string" ? out.base : String(call.args.currency_from);
      const date = typeof out.date === "string" ? out.date : "";
      const source = sourceOf(out, tools, RATE_TOOL);
      conversions.push({ text: `${fmt(amount)} ${base} = ${fmt(value)} ${to}`, date, source: source.phrase, providers: source.providers, asked: call.args.currency_date });
    } else if (call.name === HISTORY_TOOL || /histor|series/i.test(call.name)) {
      sentences.push(wordHistory(call, out, tools));
    } else {
      sentences.push("I got an answer I can't word; please rephrase the question.");
    }
  }
  // One sentence for the conversions that share a date and source, so "100 USD to EUR and GBP" reads as one answer.
  const groups = new Map<string, typeof conversions>();
  for (const c of conversions) {
    const key = `${c.date}|${c.source}|${c.providers}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const lines: string[] = [];
  for (const group of groups.values()) {
    const { date, source, providers, asked } = group[0]!;
    const plural = group.length > 1 ? source.replace(/\brate\b/, "rates") : source;
    const earlier = typeof asked === "string" && asked !== "latest" && date && asked !== date ? ` (the closest earlier day with rates to ${asked})` : "";
    const from = providers ? ` (source: ${providers})` : "";
    lines.push(`${list(group.map((c) => c.text))}, at ${plural}${date ? ` of ${date}` : ""}${earlier}${from}.`);
  }
  return [note, ...lines, ...sentences].filter(Boolean).join(" ");
}

function wordHistory(call: FunctionCall, out: Structured, tools: readonly ToolSpec[]): string {
  const to = String(call.args.currency_to);
  const from = typeof out.base === "string" ? out.base : String(call.args.currency_from);
  const start = typeof out.start_date === "string" ? out.start_date : String(call.args.start_date ?? call.args.start ?? "");
  const end = typeof out.end_date === "string" ? out.end_date : String(call.args.end_date ?? call.args.end ?? start);
  const series = isRecord(out.rates) ? Object.entries(out.rates) : [];
  const values = series
    .map(([d, v]) => [d, isRecord(v) ? v[to] : undefined] as const)
    .filter((p): p is readonly [string, number] => typeof p[1] === "number" && Number.isFinite(p[1]))
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (!values.length) return `There are no ${from} to ${to} rates between ${start} and ${end}.`;
  const nums = values.map(([, v]) => v);
  const first = values[0]!;
  const last = values[values.length - 1]!;
  const change = ((last[1] - first[1]) / first[1]) * 100;
  const source = sourceOf(out, tools, HISTORY_TOOL);
  const kind = source.phrase.replace(/^the /, "").replace(/\brate\b/, "rates");
  return (
    `${from} to ${to} from ${start} to ${end} (${values.length} days with ${kind}${source.providers ? ` from ${source.providers}` : ""}): ` +
    `${fmt(first[1])} on ${first[0]}, ${fmt(last[1])} on ${last[0]} (${change >= 0 ? "+" : ""}${change.toFixed(2)}%), ` +
    `low ${fmt(nums.reduce((a, b) => Math.min(a, b)))}, high ${fmt(nums.reduce((a, b) => Math.max(a, b)))}.`
  );
}
