// A Frankfurter-compatible server with fixed rates, for tests and benchmarks only: the v2 API at /v2
// (blended rates, 200+ currencies in the real one) and the frozen v1 API (ECB reference rates) at /v1.
// Same paths, parameters, JSON shapes and error statuses as the real service.
//
// Follows (read 2026-11-25 with the search tool):
// - https://frankfurter.dev/ (v2 docs: /v2/rates, /v2/rate/{base}/{quote}, /v2/currencies, providers,
//   group=week|month, "an invalid currency code returns a 422 with a JSON message") and
//   https://frankfurter.dev/v1 (v1 docs);
// - Frankfurter's own source, github.com/lineofflight/frankfurter at 60541ad (2026-08-21):
//   lib/versions/v2.rb and lib/versions/v2/rate_query.rb (422 `{status, message}` for "unknown parameter: x",
//   "invalid date", "conflicting params", "invalid group", "invalid currency: XYZ"; 404
//   `{status: 404, message: "not found"}` when /rate finds no row; /rates answers `[]` then), carry_forward.rb
//   (a date is answered with the last published rate up to 14 days back: weekends carry back to Friday),
//   roundable.rb (how rates are rounded), public/v2/openapi.json (the identity row, currencies fields).
// Simplified on purpose: weekends are the only non-publishing days; week buckets are labelled with their
// Monday, month buckets with their first day; /currencies ignores parameters it does not know (as the real one).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** ECB reference rates (1 EUR = x): what /v1 and /v2?providers=ECB serve. USD is 1.25 so USD↔EUR amounts are exact in both versions. */
export const RATES_EUR: Readonly<Record<string, number>> = {
  AUD: 1.6512,
  BRL: 6.3021,
  CAD: 1.4703,
  CHF: 0.9412,
  CNY: 7.8125,
  CZK: 25.123,
  DKK: 7.4589,
  GBP: 0.8412,
  HKD: 8.4467,
  INR: 90.115,
  JPY: 162.45,
  KRW: 1502.3,
  MXN: 21.876,
  NOK: 11.645,
  NZD: 1.8234,
  PLN: 4.2561,
  SEK: 11.289,
  SGD: 1.4521,
  USD: 1.25,
  ZAR: 19.734,
};
export const NAMES: Readonly<Record<string, string>> = {
  AUD: "Australian Dollar",
  BRL: "Brazilian Real",
  CAD: "Canadian Dollar",
  CHF: "Swiss Franc",
  CNY: "Chinese Renminbi Yuan",
  CZK: "Czech Koruna",
  DKK: "Danish Krone",
  EUR: "Euro",
  GBP: "British Pound",
  HKD: "Hong Kong Dollar",
  INR: "Indian Rupee",
  JPY: "Japanese Yen",
  KRW: "South Korean Won",
  MXN: "Mexican Peso",
  NOK: "Norwegian Krone",
  NZD: "New Zealand Dollar",
  PLN: "Polish Złoty",
  SEK: "Swedish Krona",
  SGD: "Singapore Dollar",
  USD: "United States Dollar",
  ZAR: "South African Rand",
};

interface V2Currency {
  iso_numeric: string;
  name: string;
  symbol: string;
  start_date: string;
  /** Blended rate, 1 EUR = x. */
  rate: number;
}
/**
 * The v2 set: the ECB currencies with blended rates a little off the ECB's (so a test can tell them apart;
 * USD stays equal), plus currencies only other central banks publish, some with later coverage.
 */
export const V2_CURRENCIES: Readonly<Record<string, V2Currency>> = {
  AED: {
    iso_numeric: "784",
    name: "United Arab Emirates Dirham",
    symbol: "د.إ",
    start_date: "1999-01-04",
    rate: 4.590625,
  },
  ARS: {
    iso_numeric: "032",
    name: "Argentine Peso",
    symbol: "$",
    start_date: "2002-01-02",
    rate: 1312.5,
  },
  AUD: {
    iso_numeric: "036",
    name: "Australian Dollar",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 1.6531,
  },
  BRL: {
    iso_numeric: "986",
    name: "Brazilian Real",
    symbol: "R$",
    start_date: "1999-01-04",
    rate: 6.3102,
  },
  CAD: {
    iso_numeric: "124",
    name: "Canadian Dollar",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 1.4711,
  },
  CHF: {
    iso_numeric: "756",
    name: "Swiss Franc",
    symbol: "CHF",
    start_date: "1999-01-04",
    rate: 0.9405,
  },
  CLP: {
    iso_numeric: "152",
    name: "Chilean Peso",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 1187.5,
  },
  CNY: {
    iso_numeric: "156",
    name: "Chinese Renminbi Yuan",
    symbol: "¥",
    start_date: "1999-01-04",
    rate: 7.8201,
  },
  COP: {
    iso_numeric: "170",
    name: "Colombian Peso",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 5062.5,
  },
  CZK: {
    iso_numeric: "203",
    name: "Czech Koruna",
    symbol: "Kč",
    start_date: "1999-01-04",
    rate: 25.141,
  },
  DKK: {
    iso_numeric: "208",
    name: "Danish Krone",
    symbol: "kr.",
    start_date: "1999-01-04",
    rate: 7.4592,
  },
  EGP: {
    iso_numeric: "818",
    name: "Egyptian Pound",
    symbol: "ج.م",
    start_date: "1999-01-04",
    rate: 61.25,
  },
  EUR: { iso_numeric: "978", name: "Euro", symbol: "€", start_date: "1999-01-04", rate: 1 },
  GBP: {
    iso_numeric: "826",
    name: "British Pound",
    symbol: "£",
    start_date: "1999-01-04",
    rate: 0.8425,
  },
  HKD: {
    iso_numeric: "344",
    name: "Hong Kong Dollar",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 9.7375,
  },
  INR: {
    iso_numeric: "356",
    name: "Indian Rupee",
    symbol: "₹",
    start_date: "1999-01-04",
    rate: 90.204,
  },
  JPY: {
    iso_numeric: "392",
    name: "Japanese Yen",
    symbol: "¥",
    start_date: "1999-01-04",
    rate: 162.71,
  },
  KES: {
    iso_numeric: "404",
    name: "Kenyan Shilling",
    symbol: "KSh",
    start_date: "1999-01-04",
    rate: 161.5,
  },
  KRW: {
    iso_numeric: "410",
    name: "South Korean Won",
    symbol: "₩",
    start_date: "1999-01-04",
    rate: 1503.9,
  },
  KWD: {
    iso_numeric: "414",
    name: "Kuwaiti Dinar",
    symbol: "د.ك",
    start_date: "1999-01-04",
    rate: 0.38375,
  },
  MXN: {
    iso_numeric: "484",
    name: "Mexican Peso",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 21.901,
  },
  NGN: {
    iso_numeric: "566",
    name: "Nigerian Naira",
    symbol: "₦",
    start_date: "2005-01-03",
    rate: 2000,
  },
  NOK: {
    iso_numeric: "578",
    name: "Norwegian Krone",
    symbol: "kr",
    start_date: "1999-01-04",
    rate: 11.652,
  },
  NZD: {
    iso_numeric: "554",
    name: "New Zealand Dollar",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 1.8255,
  },
  PHP: {
    iso_numeric: "608",
    name: "Philippine Peso",
    symbol: "₱",
    start_date: "1999-01-04",
    rate: 71.875,
  },
  PLN: {
    iso_numeric: "985",
    name: "Polish Złoty",
    symbol: "zł",
    start_date: "1999-01-04",
    rate: 4.2577,
  },
  SAR: {
    iso_numeric: "682",
    name: "Saudi Riyal",
    symbol: "ر.س",
    start_date: "1999-01-04",
    rate: 4.6875,
  },
  SEK: {
    iso_numeric: "752",
    name: "Swedish Krona",
    symbol: "kr",
    start_date: "1999-01-04",
    rate: 11.301,
  },
  SGD: {
    iso_numeric: "702",
    name: "Singapore Dollar",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 1.4533,
  },
  TRY: {
    iso_numeric: "949",
    name: "Turkish Lira",
    symbol: "₺",
    start_date: "2005-01-03",
    rate: 52.5,
  },
  USD: {
    iso_numeric: "840",
    name: "United States Dollar",
    symbol: "$",
    start_date: "1999-01-04",
    rate: 1.25,
  },
  VES: {
    iso_numeric: "928",
    name: "Venezuelan Bolívar Soberano",
    symbol: "Bs.",
    start_date: "2018-08-20",
    rate: 450,
  },
  ZAR: {
    iso_numeric: "710",
    name: "South African Rand",
    symbol: "R",
    start_date: "1999-01-04",
    rate: 19.771,
  },
};
/** Real ISO 4217 codes no provider publishes: v2 accepts them (no 422) and finds nothing (404). */
export const ISO_WITHOUT_RATES: readonly string[] = ["KPW", "CUC", "ZWL"];
/** Providers the stand-in knows, and the currencies each publishes; the blend is every one of them. */
export const PROVIDERS: Readonly<Record<string, readonly string[]>> = {
  ECB: [...Object.keys(RATES_EUR), "EUR"],
  CBN: ["NGN", "USD", "EUR", "GBP"],
  BCRA: ["ARS", "USD", "EUR", "BRL"],
};

/** The last working day up to today (UTC), as Frankfurter's `latest` reports it. */
export const LATEST_DATE = lastWorkingDay(new Date().toISOString().slice(0, 10));

function lastWorkingDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
const addDays = (date: string, n: number): string => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};
const isWorkingDay = (date: string): boolean =>
  ![0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay());

export type Mode = "ok" | "down" | "slow" | "5xx" | "flaky5xx" | "404" | "422" | "huge";

export interface FakeFrankfurter {
  /** The v2 API (the default the mcp-server uses). */
  url: string;
  /** The frozen v1 API (ECB reference rates). */
  v1Url: string;
  requests: string[];
  /** The W3C `traceparent` header of each request, in order ("" when absent): the real service ignores it. */
  traceparents: string[];
  /** The most requests the stand-in was answering at once since it started (or since `resetInFlight`). */
  readonly maxInFlight: number;
  resetInFlight(): void;
  setMode(mode: Mode): void;
  /** Delay every answer by this many ms (to make concurrent requests overlap). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

function rateOf(code: string): number | undefined {
  return code === "EUR" ? 1 : RATES_EUR[code];
}

/** Frankfurter v1 rounds converted values to 5 significant digits. */
export function round(n: number): number {
  return Number(n.toPrecision(5));
}

/** Frankfurter v2's rounding of a rate (lib/roundable.rb): fewer decimals the larger the rate. */
export function roundRate(v: number): number {
  if (v > 5000) return Math.round(v);
  const decimals = v > 80 ? 2 : v > 20 ? 3 : v > 1 ? 4 : v > 0.0001 ? 5 : 6;
  return Number(v.toFixed(decimals));
}

/** Rates move a little each day so that history and dated lookups are distinguishable. */
function dayFactor(date: string): number {
  const day = Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
  return date === LATEST_DATE ? 1 : 1 + ((day % 7) - 3) / 1000;
}

export interface ExpectOptions {
  /** "v2" (default, blended) or "v1" (ECB reference rates, converted by Frankfurter itself). */
  api?: "v1" | "v2";
  /** v2 only: the FRANKFURTER_PROVIDERS the server was started with. */
  providers?: string;
  /** A working day in the past; default latest. */
  date?: string;
}

/** The v2 unit rate between two currencies on a working day, as the stand-in serves it. */
export function expectedRate(
  from: string,
  to: string,
  opts: Omit<ExpectOptions, "api"> = {},
): number {
  const table = v2Table(opts.providers ? opts.providers.toUpperCase().split(",") : undefined);
  const f = table[from];
  const t = table[to];
  if (f === undefined || t === undefined) throw new Error(`no fixed rate for ${from} or ${to}`);
  return from === to ? 1 : roundRate((t / f) * dayFactor(opts.date ?? LATEST_DATE));
}

/**
 * What the mcp-server answers for a conversion, so tests can assert the exact number: v1 converts
 * upstream (5 significant digits); over v2 the server multiplies the rate and rounds to the target
 * currency's minor unit, keeping at least 3 significant digits.
 */
export function expectedConversion(
  from: string,
  to: string,
  amount: number,
  opts: ExpectOptions = {},
): number {
  if (opts.api === "v1") {
    const f = rateOf(from);
    const t = rateOf(to);
    if (f === undefined || t === undefined) throw new Error(`no fixed rate for ${from} or ${to}`);
    const factor = opts.date && (from === "EUR" || to === "EUR") ? dayFactor(opts.date) : 1;
    return round(((amount * t) / f) * factor);
  }
  const value = amount * expectedRate(from, to, opts);
  const minor =
    new Intl.NumberFormat("en", { style: "currency", currency: to }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  const significant = value === 0 ? 0 : Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return Number(value.toFixed(Math.min(Math.max(minor, significant), 12)));
}

// ---------------------------------------------------------------------------------------------- v1

function businessDay(date: string): string {
  const s = lastWorkingDay(date);
  return s > LATEST_DATE ? LATEST_DATE : s;
}

function quote(
  base: string,
  symbols: string[],
  amount: number,
  date: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  const b = rateOf(base)!;
  for (const s of symbols)
    if (s !== base)
      out[s] = round(
        ((amount * rateOf(s)!) / b) * (s === "EUR" || base === "EUR" ? dayFactor(date) : 1),
      );
  return out;
}

export function handle(path: string, query: URLSearchParams): { status: number; body: unknown } {
  if (path.startsWith("/v2")) return handleV2(path.slice(3), query);
  const notFound = { status: 404, body: { message: "not found" } };
  const m = /^\/v1\/(latest|currencies|\d{4}-\d{2}-\d{2}(?:\.\.(?:\d{4}-\d{2}-\d{2})?)?)$/.exec(
    path,
  );
  if (!m) return notFound;
  const what = m[1]!;
  if (what === "currencies") return { status: 200, body: NAMES };

  const base = (query.get("base") ?? query.get("from") ?? "EUR").toUpperCase();
  const symbolsParam = query.get("symbols") ?? query.get("to");
  const symbols = symbolsParam ? symbolsParam.toUpperCase().split(",") : Object.keys(NAMES);
  const amountParam = query.get("amount");
  const amount = amountParam === null ? 1 : Number(amountParam);
  if (!Number.isFinite(amount) || amount <= 0)
    return { status: 422, body: { message: "invalid amount" } };
  if (rateOf(base) === undefined || symbols.some((s) => rateOf(s) === undefined)) return notFound;

  if (what === "latest")
    return {
      status: 200,
      body: { amount, base, date: LATEST_DATE, rates: quote(base, symbols, amount, LATEST_DATE) },
    };

  const [start, end] = what.split("..");
  if (!start || Number.isNaN(Date.parse(`${start}T00:00:00Z`)) || start < "1999-01-04")
    return notFound;
  if (end === undefined) {
    const date = businessDay(start);
    return { status: 200, body: { amount, base, date, rates: quote(base, symbols, amount, date) } };
  }
  const last = end === "" || end > LATEST_DATE ? LATEST_DATE : end;
  const rates: Record<string, Record<string, number>> = {};
  for (
    let d = new Date(`${start}T00:00:00Z`);
    d.toISOString().slice(0, 10) <= last;
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    if (d.getUTCDay() === 0 || d.getUTCDay() === 6) continue;
    const date = d.toISOString().slice(0, 10);
    rates[date] = quote(base, symbols, amount, date);
  }
  const dates = Object.keys(rates);
  if (dates.length === 0) return notFound;
  return {
    status: 200,
    body: { amount, base, start_date: dates[0], end_date: dates[dates.length - 1], rates },
  };
}

// ---------------------------------------------------------------------------------------------- v2

const V2_PARAMS = ["base", "quotes", "providers", "date", "from", "to", "group", "expand"];
const LOOKBACK_DAYS = 14;
const V2_NOT_FOUND = { status: 404, body: { status: 404, message: "not found" } };
const invalid = (message: string): { status: number; body: unknown } => ({
  status: 422,
  body: { status: 422, message },
});

/** 1 EUR = x for every currency the named providers publish (all of them when none are named). */
function v2Table(providers: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!providers) {
    for (const [code, c] of Object.entries(V2_CURRENCIES)) out[code] = c.rate;
    return out;
  }
  for (const p of providers) {
    for (const code of PROVIDERS[p] ?? []) {
      out[code] = p === "ECB" ? rateOf(code)! : V2_CURRENCIES[code]!.rate;
    }
  }
  return out;
}

/** The date a rate is published for when asked for `date`: carried back over weekends, at most 14 days. */
function observed(date: string): string | undefined {
  const capped = date > LATEST_DATE ? LATEST_DATE : lastWorkingDay(date);
  return capped < addDays(date, -LOOKBACK_DAYS) ? undefined : capped;
}

type Row = { date: string; base: string; quote: string; rate: number };

function snapshot(
  table: Record<string, number>,
  base: string,
  quotes: string[] | undefined,
  date: string,
): Row[] {
  const b = table[base];
  if (b === undefined || date < V2_CURRENCIES[base]!.start_date) return [];
  const rows: Row[] = [];
  for (const [code, t] of Object.entries(table)) {
    if (date < V2_CURRENCIES[code]!.start_date) continue;
    if (quotes && !quotes.includes(code)) continue;
    rows.push({
      date,
      base,
      quote: code,
      rate: code === base ? 1 : roundRate((t / b) * dayFactor(date)),
    });
  }
  return rows.sort((x, y) => x.quote.localeCompare(y.quote));
}

function bucket(date: string, group: string): string {
  if (group === "month") return `${date.slice(0, 7)}-01`;
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return addDays(date, -((day + 6) % 7));
}

function isDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return (
    /^\d{4}-\d{2}-\d{2}$/.test(s) &&
    !Number.isNaN(d.getTime()) &&
    d.toISOString().slice(0, 10) === s
  );
}

function rateQuery(
  query: URLSearchParams,
): { status: number; body: unknown } | { rows: Row[]; range: boolean } {
  const unknown = [...new Set(query.keys())].filter((k) => !V2_PARAMS.includes(k));
  if (unknown.length) return invalid(`unknown parameter: ${unknown.join(", ")}`);
  for (const k of ["date", "from", "to"])
    if (query.has(k) && !isDate(query.get(k)!)) return invalid("invalid date");
  if (query.has("date") && (query.has("from") || query.has("to")))
    return invalid("conflicting params");
  const group = query.get("group")?.toLowerCase();
  if (group !== undefined && !["week", "month"].includes(group)) return invalid("invalid group");
  const expand = query
    .get("expand")
    ?.toLowerCase()
    .split(",")
    .filter((e) => e !== "providers");
  if (expand?.length) return invalid(`invalid expand: ${expand.join(",")}`);
  const base = (query.get("base") ?? "EUR").toUpperCase();
  const quotes = query.get("quotes")?.toUpperCase().split(",");
  const known = (c: string): boolean => c in V2_CURRENCIES || ISO_WITHOUT_RATES.includes(c);
  const bad = [
    ...(query.has("base") && !known(base) ? [base] : []),
    ...(quotes ?? []).filter((q) => !known(q)),
  ];
  if (bad.length) return invalid(`invalid currency: ${bad.join(",")}`);
  const table = v2Table(query.get("providers")?.toUpperCase().split(","));

  const from = query.get("from");
  if (from === null) {
    const asked = query.get("date") ?? addDays(LATEST_DATE, 1);
    const date = observed(asked);
    return { rows: date ? snapshot(table, base, quotes, date) : [], range: false };
  }
  const to = query.get("to") ?? LATEST_DATE;
  const last = to > LATEST_DATE ? LATEST_DATE : to;
  const days: string[] = [];
  // A daily range that starts on a weekend opens with the carried-back rate; rollups only cover the range.
  const first = isWorkingDay(from) || group ? from : observed(from);
  if (first && first !== from) days.push(first);
  for (let d = from; d <= last; d = addDays(d, 1)) if (isWorkingDay(d)) days.push(d);
  const daily = days.flatMap((d) => snapshot(table, base, quotes, d));
  if (!group) return { rows: daily, range: true };
  const sums = new Map<string, { row: Row; sum: number; n: number }>();
  for (const r of daily) {
    const key = `${bucket(r.date, group)} ${r.quote}`;
    const s = sums.get(key) ?? { row: { ...r, date: bucket(r.date, group) }, sum: 0, n: 0 };
    s.sum += r.rate;
    s.n += 1;
    sums.set(key, s);
  }
  const rows = [...sums.values()].map((s) => ({ ...s.row, rate: roundRate(s.sum / s.n) }));
  return {
    rows: rows.sort((a, b) => a.date.localeCompare(b.date) || a.quote.localeCompare(b.quote)),
    range: true,
  };
}

function currencyRecord(code: string): Record<string, string> {
  const c = V2_CURRENCIES[code]!;
  return {
    iso_code: code,
    iso_numeric: c.iso_numeric,
    name: c.name,
    symbol: c.symbol,
    start_date: c.start_date,
    end_date: LATEST_DATE,
  };
}

function handleV2(path: string, query: URLSearchParams): { status: number; body: unknown } {
  if (path === "" || path === "/")
    return {
      status: 200,
      body: {
        version: "v2",
        status: "current",
        openapi: "/v2/openapi.json",
        docs: "https://frankfurter.dev",
      },
    };
  if (path === "/rates") {
    const r = rateQuery(query);
    return "rows" in r ? { status: 200, body: r.rows } : r;
  }
  const pair = /^\/rate\/([^/]+)\/([^/]+)$/.exec(path);
  if (pair) {
    const params = new URLSearchParams(query);
    params.set("base", decodeURIComponent(pair[1]!).toUpperCase());
    params.set("quotes", decodeURIComponent(pair[2]!).toUpperCase());
    const r = rateQuery(params);
    if (!("rows" in r)) return r;
    return r.rows[0] ? { status: 200, body: r.rows[0] } : V2_NOT_FOUND;
  }
  if (path === "/currencies") {
    const providers = query.get("providers")?.toUpperCase().split(",");
    const codes = providers ? Object.keys(v2Table(providers)) : Object.keys(V2_CURRENCIES);
    return { status: 200, body: codes.sort().map(currencyRecord) };
  }
  const one = /^\/currency\/([^/]+)$/.exec(path);
  if (one) {
    const code = decodeURIComponent(one[1]!).toUpperCase();
    if (!(code in V2_CURRENCIES)) return V2_NOT_FOUND;
    const providers = Object.entries(PROVIDERS)
      .filter(([, cs]) => cs.includes(code))
      .map(([p]) => p)
      .sort();
    return { status: 200, body: { ...currencyRecord(code), providers } };
  }
  return V2_NOT_FOUND;
}

// ------------------------------------------------------------------------------------------ server

export async function startFrankfurter(
  opts: { port?: number; host?: string } = {},
): Promise<FakeFrankfurter> {
  let mode: Mode = "ok";
  let delayMs = 0;
  let flakyCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const requests: string[] = [];
  const traceparents: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push(url.pathname + url.search);
    traceparents.push(String(req.headers.traceparent ?? ""));
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    const send = (status: number, body: unknown): void => {
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const answer = (): void => {
      switch (mode) {
        case "down":
          req.socket.destroy();
          return;
        case "slow":
          setTimeout(() => send(200, handle(url.pathname, url.searchParams).body), 30_000).unref();
          return;
        case "5xx":
          return send(503, { message: "service unavailable" });
        case "flaky5xx":
          if (flakyCount++ % 2 === 0) return send(502, { message: "bad gateway" });
          break;
        case "404":
          return send(404, { status: 404, message: "not found" });
        case "422":
          return send(422, { status: 422, message: "unprocessable" });
        case "huge": {
          // A well-formed answer far larger than any real one: 8 MB of rows, written without waiting.
          res.writeHead(200, { "content-type": "application/json" });
          const row = JSON.stringify({ date: LATEST_DATE, base: "EUR", quote: "USD", rate: 1.25 });
          const chunk = Array(1000).fill(row).join(",");
          res.write(`[${chunk}`);
          for (let i = 0; i < 120 && !res.destroyed; i++) res.write(`,${chunk}`);
          res.end("]");
          return;
        }
      }
      const { status, body } = handle(url.pathname, url.searchParams);
      send(status, body);
    };
    if (delayMs > 0) setTimeout(answer, delayMs).unref();
    else answer();
  });
  await new Promise<void>((resolve) =>
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve),
  );
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1";
  return {
    url: `http://${host}:${port}/v2`,
    v1Url: `http://${host}:${port}/v1`,
    requests,
    traceparents,
    get maxInFlight() {
      return maxInFlight;
    },
    resetInFlight() {
      maxInFlight = inFlight;
    },
    setMode(m) {
      mode = m;
      flakyCount = 0;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// CLI: node --import tsx test/support/frankfurter.ts [--port N] [--host H]
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const fake = await startFrankfurter({
    port: Number(arg("--port") ?? 0),
    host: arg("--host") ?? "127.0.0.1",
  });
  console.log(JSON.stringify({ url: fake.url, v1: fake.v1Url }));
  const stop = (): void => void fake.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
