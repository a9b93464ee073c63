import { BodyTooLarge, readCapped } from "../../../common/capped-body.js";
import { inSpan, propagationFields, type SpanContext } from "../../../common/trace-context.js";
import { TtlCache, latestExpiry } from "./cache.js";
import { ServiceError, type UpstreamKind, upstreamError } from "../errors.js";
import { describeNetworkError } from "./errors.js";
import { Limiter } from "./limiter.js";
import type { Config } from "../config.js";
import { isCalendarDate, todayUtc } from "../validation.js";

/** v2 (central banks, 200+ currencies) or v1 (ECB): the same small shapes, the only ones cached. */
export type ApiVersion = "v1" | "v2";

/** One conversion: the unit rate, and the amount converted (v1 converts upstream, v2 here). */
export interface Conversion {
  date: string;
  base: string;
  quote: string;
  rate: number;
  amount: number;
  converted: number;
}
export interface History {
  base: string;
  quote: string;
  group: HistoryGroup;
  /** [date, rate] in date order. */
  points: Array<[string, number]>;
}
export type HistoryGroup = "day" | "week" | "month";
export interface CurrencyInfo {
  code: string;
  name: string;
  symbol?: string;
  /** First and last day with rates (v2 only; v1 does not say). */
  start_date?: string;
  end_date?: string;
}

/** The settings the client reads: FRANKFURTER_* and CACHE_*, as the config schema parsed them. */
export type FrankfurterSettings = Pick<
  Config,
  Extract<keyof Config, `FRANKFURTER_${string}` | `CACHE_${string}`>
>;

/** What tests replace. */
export interface FrankfurterDeps {
  fetch?: typeof fetch | undefined;
  now?: (() => number) | undefined;
  retryDelayMs?: (() => number) | undefined;
}

export interface Fetched<T> {
  value: T;
  cacheHit: boolean;
}

/** The first day each version has rates for. */
export const FIRST_DATE: Readonly<Record<ApiVersion, string>> = {
  v1: "1999-01-04",
  v2: "1948-01-01",
};

const DAY = 86_400_000;

/** Reads a JSON answer into one of the shapes above, or undefined (or BadAnswer) if it is not one. */
type Reader<T> = (json: unknown) => T | undefined;

/**
 * Frankfurter client: timeout, one retry, error mapping, a bounded cache, a bound on concurrent
 * requests. `trace` on each call: the tool call's span context, parent of the upstream GET's span.
 */
export class FrankfurterClient {
  readonly version: ApiVersion;
  readonly providers: readonly string[];
  readonly #base: URL;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #retryDelayMs: () => number;
  readonly #settings: FrankfurterSettings;
  readonly #cache: TtlCache<unknown>;
  readonly #limiter: Limiter;

  constructor(settings: FrankfurterSettings, deps: FrankfurterDeps = {}) {
    const url = settings.FRANKFURTER_URL;
    // A trailing slash makes relative resolution append to the configured path (…/v2/rate/…).
    this.#base = new URL(url.endsWith("/") ? url : `${url}/`);
    this.version = /\/v1\/$/.test(this.#base.pathname) ? "v1" : "v2";
    this.providers = this.version === "v2" ? settings.FRANKFURTER_PROVIDERS : [];
    this.#settings = settings;
    this.#fetch = deps.fetch ?? fetch;
    this.#now = deps.now ?? Date.now;
    // Jittered, so that many instances don't retry in step.
    this.#retryDelayMs = deps.retryDelayMs ?? (() => 200 + Math.random() * 300);
    this.#cache = new TtlCache(settings.CACHE_MAX_ENTRIES, this.#now, settings.CACHE_MAX_BYTES);
    this.#limiter = new Limiter(
      settings.FRANKFURTER_MAX_CONCURRENT,
      settings.FRANKFURTER_MAX_QUEUE,
    );
  }

  /** Where the rates come from, in words for answers. */
  get source(): string {
    if (this.version === "v1") return "ECB reference rate";
    if (this.providers.length) return `rate from ${this.providers.join(", ")} via Frankfurter`;
    return "blended rate from central banks via Frankfurter";
  }

  get firstDate(): string {
    return FIRST_DATE[this.version];
  }

  /** Cache figures, for tests and diagnostics. */
  get cacheStats(): { entries: number; bytes: number } {
    return { entries: this.#cache.size, bytes: this.#cache.bytes };
  }

  /** The upstream URL. Callers pass validated values only; the path is checked again here. */
  url(path: string, params: Record<string, string | number | undefined> = {}): URL {
    const allowed =
      this.version === "v1"
        ? /^(latest|currencies|\d{4}-\d{2}-\d{2}(\.\.(\d{4}-\d{2}-\d{2})?)?)$/
        : /^(rates|currencies|rate\/[A-Z]{3}\/[A-Z]{3})$/;
    if (!allowed.test(path)) {
      throw new Error(`refusing to build an upstream URL for path ${JSON.stringify(path)}`);
    }
    const url = new URL(path, this.#base);
    const providers = this.providers.length ? this.providers.join(",") : undefined;
    for (const [k, v] of Object.entries({ ...params, providers })) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url;
  }

  /** Converts `amount` of `from` into `to` at the rate for `date` ("latest" or YYYY-MM-DD). */
  async convert(
    from: string,
    to: string,
    date: string,
    amount: number,
    trace?: SpanContext,
  ): Promise<Fetched<Conversion>> {
    if (this.version === "v1") {
      // v1 converts upstream (5 significant digits): the amount is part of the cached URL.
      const url = this.url(date, {
        base: from,
        symbols: to,
        amount: amount === 1 ? undefined : amount,
      });
      const { CACHE_LATEST_TTL_SECONDS: latest, CACHE_DATED_TTL_SECONDS: dated } = this.#settings;
      const expiresAt =
        date === "latest" ? latestExpiry(this.#now(), latest * 1000) : this.#now() + dated * 1000;
      return this.#cached(url, expiresAt, trace, (json) => {
        if (!isObject(json) || !isObject(json.rates)) return undefined;
        check.same(json.base, from, "base");
        const converted = check.rate(json.rates[to]);
        const rate = Number((converted / amount).toPrecision(6));
        return { date: check.date(json.date), base: from, quote: to, amount, converted, rate };
      });
    }
    // v2 has no amount parameter (it would answer 422): the unit rate, cached once for every amount.
    const day = date === "latest" ? undefined : date;
    const url = this.url(`rate/${from}/${to}`, { date: day });
    const { value, cacheHit } = await this.#cached(url, this.#expiry(day), trace, (json) => {
      if (!isObject(json)) return undefined;
      check.same(json.base, from, "base");
      check.same(json.quote, to, "quote");
      return { date: check.date(json.date), base: from, quote: to, rate: check.rate(json.rate) };
    });
    const converted = roundForCurrency(amount * value.rate, to);
    return { value: { ...value, amount, converted }, cacheHit };
  }

  /** Rates from `start` to `end` (default today), daily or, over v2, grouped by week or month. */
  history(
    from: string,
    to: string,
    start: string,
    end: string | undefined,
    group: HistoryGroup = "day",
    trace?: SpanContext,
  ): Promise<Fetched<History>> {
    const result = (points: Array<[string, number]>) => ({ base: from, quote: to, group, points });
    if (this.version === "v1") {
      if (group !== "day") throw new Error("v1 has no grouped history");
      const url = this.url(`${start}..${end ?? ""}`, { base: from, symbols: to });
      return this.#cached(url, this.#expiry(end), trace, (json) => {
        if (!isObject(json) || !isObject(json.rates)) return undefined;
        check.same(json.base, from, "base");
        const rates = Object.entries(json.rates);
        return result(
          rates.map(([d, r]): [string, number] => [
            check.date(d),
            check.rate(isObject(r) ? r[to] : undefined),
          ]),
        );
      });
    }
    const grouped = group === "day" ? undefined : group;
    const params = { base: from, quotes: to, from: start, to: end, group: grouped };
    return this.#cached(this.url("rates", params), this.#expiry(end), trace, (json) => {
      if (!Array.isArray(json) || !json.every(isObject)) return undefined;
      const rows = json.filter((row) => row.quote === to);
      return result(
        rows.map((row): [string, number] => {
          check.same(row.base, from, "base");
          return [check.date(row.date), check.rate(row.rate)];
        }),
      );
    });
  }

  /** The currencies there are rates for: code and name, and over v2 symbol and date coverage. */
  currencies(trace?: SpanContext): Promise<Fetched<CurrencyInfo[]>> {
    const url = this.url("currencies");
    const expiresAt = this.#now() + this.#settings.CACHE_DATED_TTL_SECONDS * 1000;
    const name = (v: unknown) => check.text(v, "name", MAX_NAME);
    if (this.version === "v1") {
      return this.#cached(url, expiresAt, trace, (json) => {
        if (!isObject(json)) return undefined;
        return Object.entries(json).map(([code, v]) => ({ code: check.code(code), name: name(v) }));
      });
    }
    return this.#cached(url, expiresAt, trace, (json) => {
      if (!Array.isArray(json) || !json.every(isObject)) return undefined;
      return json.map((c) => {
        const code = check.code(c.iso_code);
        const symbol = optional(c.symbol, (v) => check.text(v, "symbol", MAX_SYMBOL));
        const start = optional(c.start_date, check.date);
        const end = optional(c.end_date, check.date);
        return {
          code,
          name: optional(c.name, name) ?? code,
          ...(symbol && { symbol }),
          ...(start && { start_date: start }),
          ...(end && { end_date: end }),
        };
      });
    });
  }

  /** Latest answers, and today's or yesterday's (providers may still publish), are kept briefly. */
  #expiry(date: string | undefined): number {
    const now = this.#now();
    const recent = date === undefined || date >= todayUtc(now - DAY);
    const ttl = recent
      ? this.#settings.CACHE_LATEST_TTL_SECONDS
      : this.#settings.CACHE_DATED_TTL_SECONDS;
    return now + ttl * 1000;
  }

  async #cached<T>(
    url: URL,
    expiresAt: number,
    trace: SpanContext | undefined,
    pick: Reader<T>,
  ): Promise<Fetched<T>> {
    const { value, hit } = await this.#cache.get(url.href, async () => ({
      value: await this.#fetchJson(url, pick, trace),
      expiresAt,
    }));
    return { value: value as T, cacheHit: hit };
  }

  /** One retry, after a short pause, of an attempt that found the upstream down or slow. */
  async #fetchJson<T>(url: URL, pick: Reader<T>, trace: SpanContext | undefined): Promise<T> {
    const timeout = this.#settings.FRANKFURTER_TIMEOUT_MS;
    const attempt = () => this.#limiter.run(() => this.#attempt(url, pick, trace), timeout);
    try {
      return await attempt();
    } catch (err) {
      const transient =
        err instanceof ServiceError && ["unavailable", "timeout"].includes(String(err.code));
      if (!transient) throw err;
      await new Promise((r) => setTimeout(r, this.#retryDelayMs()));
      return attempt();
    }
  }

  /** One GET in an HTTP client span (OpenTelemetry's HTTP conventions), its context sent upstream. */
  #attempt<T>(url: URL, pick: Reader<T>, trace: SpanContext | undefined): Promise<T> {
    const attributes = {
      "http.request.method": "GET",
      "server.address": url.hostname,
      "url.full": `${url.origin}${url.pathname}`,
    };
    const options = { kind: "client", attributes, parent: trace, current: false } as const;
    return inSpan("GET", options, async (span) => {
      try {
        const { status, body } = await this.#send(url, span.context, (code) =>
          span.setAttributes({ "http.response.status_code": code }),
        );
        return parseAnswer(url, status, body, pick);
      } catch (err) {
        if (err instanceof ServiceError) {
          span.setError(
            err.upstreamStatus ? String(err.upstreamStatus) : (err.reason ?? String(err.code)),
          );
        }
        throw err;
      }
    });
  }

  /** One GET and its 2xx body, bounded in time and size; any other outcome a ServiceError. */
  async #send(
    url: URL,
    trace: SpanContext,
    onStatus: (status: number) => void,
  ): Promise<{ status: number; body: string }> {
    const { FRANKFURTER_TIMEOUT_MS: timeoutMs, FRANKFURTER_MAX_BODY_BYTES: maxBytes } =
      this.#settings;
    const signal = AbortSignal.timeout(timeoutMs);
    const headers = { accept: "application/json", ...propagationFields(trace) };
    let status: number | undefined;
    let body: string;
    try {
      const res = await this.#fetch(url, { headers, signal, redirect: "follow" });
      status = res.status;
      onStatus(status);
      // An error's body only lends its message: read a little of it, never fail on its size.
      body = res.ok ? await readCapped(res, maxBytes) : await readCapped(res, 16 * 1024, true);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        const message = "The exchange-rate service sent a response that is too large";
        const details = {
          upstreamStatus: status,
          reason: "too_large",
          detail: err.message,
        } as const;
        throw upstreamError("bad_response", message, details);
      }
      const name = err instanceof Error ? err.name : "";
      if (signal.aborted || name === "TimeoutError" || name === "AbortError") {
        const message = `The exchange-rate service did not answer within ${timeoutMs} ms`;
        const detail = `no answer from ${url.host} within ${timeoutMs} ms`;
        throw upstreamError("timeout", message, { reason: "timeout", detail });
      }
      const message = "The exchange-rate service cannot be reached right now";
      throw upstreamError("unavailable", message, describeNetworkError(err));
    }
    if (status < 200 || status > 299) throw statusError(status, url, body);
    return { status, body };
  }
}

/** A 2xx body as the shape `pick` reads, or a bad_response naming what is wrong (for the log). */
function parseAnswer<T>(url: URL, status: number, body: string, pick: Reader<T>): T {
  const where = `${url.host}${url.pathname}`;
  const fail = (reason: "bad_json" | "bad_shape", message: string, problem: string) => {
    const details = { upstreamStatus: status, reason, detail: `${where}: ${problem}` };
    return upstreamError("bad_response", message, details);
  };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const message = "The exchange-rate service sent a response that is not JSON";
    throw fail("bad_json", message, "body is not JSON");
  }
  let problem = "unexpected JSON shape";
  try {
    const value = pick(json);
    if (value !== undefined) return value;
  } catch (err) {
    if (!(err instanceof BadAnswer)) throw err;
    problem = err.message;
  }
  throw fail("bad_shape", "The exchange-rate service sent an unexpected response", problem);
}

/** An upstream answer that is not 2xx, worded for the caller; the upstream's message for the log. */
function statusError(status: number, url: URL, body: string): ServiceError {
  const said = upstreamMessage(body);
  const detail = `HTTP ${status} from ${url.host}${url.pathname}${said ? `: ${said}` : ""}`;
  const fail = (kind: UpstreamKind, message: string): ServiceError =>
    upstreamError(kind, message, { upstreamStatus: status, reason: "status", detail });
  // The upstream's own words reach the caller (and a model) only in a form the API is known to use.
  const known = said !== undefined && KNOWN_MESSAGE.test(said) ? said : undefined;
  if (status === 404) return fail("not_found", known ?? "not found");
  if (status === 422 || status === 400) return fail("invalid", known ?? "invalid request");
  if (status >= 500 || status === 429) {
    return fail("unavailable", `The exchange-rate service failed (HTTP ${status})`);
  }
  return fail("bad_response", `The exchange-rate service answered HTTP ${status}`);
}

const digitsCache = new Map<string, number>();
/** Decimal places people use for a currency (JPY 0, EUR 2, KWD 3), from the runtime's ICU data. */
export function minorUnits(code: string): number {
  let d = digitsCache.get(code);
  if (d === undefined) {
    try {
      d =
        new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      d = 2;
    }
    if (digitsCache.size < 1000) digitsCache.set(code, d);
  }
  return d;
}

/** To the currency's minor unit, but at least 3 significant digits (1 JPY in USD is not 0). */
export function roundForCurrency(value: number, code: string): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const minor = minorUnits(code);
  // Past the minor unit, by significance: toFixed would turn 1e-300 into 0.
  const significant = 2 - Math.floor(Math.log10(Math.abs(value)));
  return significant > minor ? Number(value.toPrecision(3)) : Number(value.toFixed(minor));
}

/** Frankfurter's 4xx `message` forms (v1; v2's lib/versions/v2.rb, rate_query.rb), bounded. */
const KNOWN_MESSAGE =
  /^(?:not found|invalid (?:date|group|amount)|conflicting params|invalid currency: [A-Z]{3}(?:,[A-Z]{3}){0,3}|unknown parameter: [a-z_]{1,20}(?:, [a-z_]{1,20}){0,3})$/;

/** What is kept of a name or symbol the rates API gives. */
const MAX_NAME = 100;
const MAX_SYMBOL = 16;

/** An answer that breaks one of the checks below; its message goes to the log. */
class BadAnswer extends Error {}

/**
 * Every value from the rates API, checked before it is cached or reaches a model: ISO forms, the
 * codes asked for, rates positive and finite, names as short plain text (no smuggled instructions).
 */
const check = {
  code(v: unknown): string {
    if (typeof v === "string" && /^[A-Z]{3}$/.test(v)) return v;
    throw new BadAnswer(`currency code ${preview(v)} is not 3 capital letters`);
  },
  date(v: unknown): string {
    if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v) && isCalendarDate(v)) return v;
    throw new BadAnswer(`date ${preview(v)} is not a calendar date as YYYY-MM-DD`);
  },
  rate(v: unknown): number {
    if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
    throw new BadAnswer(`rate ${preview(v)} is not a positive number`);
  },
  same(v: unknown, asked: string, field: string): void {
    if (v !== asked) throw new BadAnswer(`${field} ${preview(v)} is not ${asked}, as asked`);
  },
  /** No control, format (bidi, zero-width), surrogate or line-separator characters. */
  text(v: unknown, field: string, max: number): string {
    if (typeof v === "string" && v.length <= max && !/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u.test(v))
      return v;
    throw new BadAnswer(`${field} ${preview(v)} is not plain text of at most ${max} characters`);
  },
};

/** Absent, null or "" where the API has nothing to say; anything else is checked. */
const optional = <T>(v: unknown, checked: (v: unknown) => T): T | undefined =>
  v === undefined || v === null || v === "" ? undefined : checked(v);

/** A bounded rendering of a bad value for the log line, invisible characters escaped. */
const preview = (v: unknown): string =>
  (JSON.stringify(v) ?? String(v))
    .replace(/[\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .slice(0, 40);

function upstreamMessage(body: string): string | undefined {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === "string" ? m.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
