import { BodyTooLarge, readCapped } from "../../../common/capped-body.js";
import { inSpan, propagationFields, type SpanContext } from "../../../common/trace.js";
import { TtlCache, latestExpiry } from "./cache.js";
import { describeNetworkError, UpstreamError } from "./errors.js";
import { Limiter } from "./limiter.js";
import type { Config } from "../config.js";
import { isCalendarDate, todayUtc } from "../validation.js";

/**
 * Frankfurter client for both API versions. v2 (the default, https://api.frankfurter.dev/v2) blends
 * rates from many central banks over 200+ currencies; a URL whose path ends in /v1 keeps the frozen
 * v1 API (ECB reference rates, ~30 currencies). Either way the tools see the same small shapes
 * below, and only those are cached (never a raw upstream body).
 */
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

/** The settings the client reads, as the config schema parsed them (with their defaults). */
export type FrankfurterSettings = Pick<
  Config,
  | "FRANKFURTER_URL"
  | "FRANKFURTER_TIMEOUT_MS"
  | "FRANKFURTER_PROVIDERS"
  | "FRANKFURTER_MAX_BODY_BYTES"
  | "FRANKFURTER_MAX_CONCURRENT"
  | "FRANKFURTER_MAX_QUEUE"
  | "CACHE_MAX_ENTRIES"
  | "CACHE_MAX_BYTES"
  | "CACHE_LATEST_TTL_SECONDS"
  | "CACHE_DATED_TTL_SECONDS"
>;

/** What tests replace: the network, the clock, and the delay before the single retry. */
export interface FrankfurterDeps {
  fetch?: typeof fetch | undefined;
  now?: (() => number) | undefined;
  /** Jittered by default, so that many instances don't retry in step. */
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

/**
 * Frankfurter client: timeout, one retry, error mapping, a bounded cache, a bound on concurrent
 * requests.
 */
export class FrankfurterClient {
  readonly version: ApiVersion;
  readonly providers: readonly string[];
  readonly #base: URL;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #retryDelayMs: () => number;
  readonly #latestTtlMs: number;
  readonly #datedTtlMs: number;
  readonly #maxBodyBytes: number;
  readonly #cache: TtlCache<unknown>;
  readonly #limiter: Limiter;

  constructor(settings: FrankfurterSettings, deps: FrankfurterDeps = {}) {
    const url = settings.FRANKFURTER_URL;
    // A trailing slash makes relative resolution append to the configured path (…/v2/rate/…).
    this.#base = new URL(url.endsWith("/") ? url : `${url}/`);
    this.version = /\/v1\/$/.test(this.#base.pathname) ? "v1" : "v2";
    this.providers = this.version === "v2" ? settings.FRANKFURTER_PROVIDERS : [];
    this.#fetch = deps.fetch ?? fetch;
    this.#timeoutMs = settings.FRANKFURTER_TIMEOUT_MS;
    this.#now = deps.now ?? Date.now;
    this.#retryDelayMs = deps.retryDelayMs ?? (() => 200 + Math.random() * 300);
    this.#latestTtlMs = settings.CACHE_LATEST_TTL_SECONDS * 1000;
    this.#datedTtlMs = settings.CACHE_DATED_TTL_SECONDS * 1000;
    this.#maxBodyBytes = settings.FRANKFURTER_MAX_BODY_BYTES;
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

  /**
   * Builds the upstream URL. Callers pass validated values only; the path is checked again here.
   */
  url(path: string, params: Record<string, string | number | undefined> = {}): URL {
    const allowed =
      this.version === "v1"
        ? /^(latest|currencies|\d{4}-\d{2}-\d{2}(\.\.(\d{4}-\d{2}-\d{2})?)?)$/
        : /^(rates|currencies|rate\/[A-Z]{3}\/[A-Z]{3})$/;
    if (!allowed.test(path))
      throw new Error(`refusing to build an upstream URL for path ${JSON.stringify(path)}`);
    const url = new URL(path, this.#base);
    for (const [k, v] of Object.entries(params))
      if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  // `trace` on each call below: the caller's span context (a tool call), parent of the upstream GET
  // span.

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
      const expiresAt =
        date === "latest"
          ? latestExpiry(this.#now(), this.#latestTtlMs)
          : this.#now() + this.#datedTtlMs;
      return this.#cached(
        url,
        expiresAt,
        (json) => {
          if (!isObject(json) || !isObject(json.rates)) return undefined;
          check.same(json.base, from, "base");
          const converted = check.rate(json.rates[to]);
          return {
            date: check.date(json.date),
            base: from,
            quote: to,
            amount,
            converted,
            rate: Number((converted / amount).toPrecision(6)),
          };
        },
        trace,
      );
    }
    // v2 has no amount parameter (it would answer 422): fetch the unit rate, cache it once for
    // every amount.
    const url = this.url(`rate/${from}/${to}`, {
      date: date === "latest" ? undefined : date,
      ...this.#providersParam(),
    });
    const r = await this.#cached(
      url,
      this.#expiry(date === "latest" ? undefined : date),
      (json) => {
        if (!isObject(json)) return undefined;
        check.same(json.base, from, "base");
        check.same(json.quote, to, "quote");
        return { date: check.date(json.date), base: from, quote: to, rate: check.rate(json.rate) };
      },
      trace,
    );
    const { rate } = r.value;
    return {
      value: { ...r.value, amount, converted: roundForCurrency(amount * rate, to) },
      cacheHit: r.cacheHit,
    };
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
    if (this.version === "v1") {
      if (group !== "day") throw new Error("v1 has no grouped history");
      const url = this.url(`${start}..${end ?? ""}`, { base: from, symbols: to });
      return this.#cached(
        url,
        this.#expiry(end),
        (json) => {
          if (!isObject(json) || !isObject(json.rates)) return undefined;
          check.same(json.base, from, "base");
          const points: Array<[string, number]> = [];
          for (const [d, r] of Object.entries(json.rates)) {
            points.push([check.date(d), check.rate(isObject(r) ? r[to] : undefined)]);
          }
          return { base: from, quote: to, group, points };
        },
        trace,
      );
    }
    const url = this.url("rates", {
      base: from,
      quotes: to,
      from: start,
      to: end,
      group: group === "day" ? undefined : group,
      ...this.#providersParam(),
    });
    return this.#cached(
      url,
      this.#expiry(end),
      (json) => {
        if (!Array.isArray(json)) return undefined;
        const points: Array<[string, number]> = [];
        for (const row of json) {
          if (!isObject(row)) return undefined;
          if (row.quote !== to) continue;
          check.same(row.base, from, "base");
          points.push([check.date(row.date), check.rate(row.rate)]);
        }
        return { base: from, quote: to, group, points };
      },
      trace,
    );
  }

  /** The currencies there are rates for: code and name, and over v2 symbol and date coverage. */
  currencies(trace?: SpanContext): Promise<Fetched<CurrencyInfo[]>> {
    const expiresAt = this.#now() + this.#datedTtlMs;
    if (this.version === "v1") {
      return this.#cached(
        this.url("currencies"),
        expiresAt,
        (json) => {
          if (!isObject(json)) return undefined;
          return Object.entries(json).map(([code, name]) => ({
            code: check.code(code),
            name: check.text(name, "name", MAX_NAME),
          }));
        },
        trace,
      );
    }
    return this.#cached(
      this.url("currencies", this.#providersParam()),
      expiresAt,
      (json) => {
        if (!Array.isArray(json)) return undefined;
        const out: CurrencyInfo[] = [];
        for (const c of json) {
          if (!isObject(c)) return undefined;
          const code = check.code(c.iso_code);
          const symbol = optional(c.symbol, (v) => check.text(v, "symbol", MAX_SYMBOL));
          const start = optional(c.start_date, check.date);
          const end = optional(c.end_date, check.date);
          out.push({
            code,
            name: optional(c.name, (v) => check.text(v, "name", MAX_NAME)) ?? code,
            ...(symbol && { symbol }),
            ...(start && { start_date: start }),
            ...(end && { end_date: end }),
          });
        }
        return out;
      },
      trace,
    );
  }

  #providersParam(): { providers?: string } {
    return this.providers.length ? { providers: this.providers.join(",") } : {};
  }

  /**
   * Latest answers, and those for today or yesterday (providers may still publish), are kept
   * briefly.
   */
  #expiry(date: string | undefined): number {
    const now = this.#now();
    const yesterday = todayUtc(now - DAY);
    return date === undefined || date >= yesterday
      ? now + this.#latestTtlMs
      : now + this.#datedTtlMs;
  }

  async #cached<T>(
    url: URL,
    expiresAt: number,
    pick: (json: unknown) => T | undefined,
    trace: SpanContext | undefined,
  ): Promise<Fetched<T>> {
    const { value, hit } = await this.#cache.get(url.href, async () => ({
      value: await this.#fetchJson(url, pick, trace),
      expiresAt,
    }));
    return { value: value as T, cacheHit: hit };
  }

  async #fetchJson<T>(
    url: URL,
    pick: (json: unknown) => T | undefined,
    trace: SpanContext | undefined,
  ): Promise<T> {
    try {
      return await this.#limiter.run(() => this.#attempt(url, pick, trace), this.#timeoutMs);
    } catch (err) {
      if (!(err instanceof UpstreamError) || !["unavailable", "timeout"].includes(err.kind))
        throw err;
      await new Promise((r) => setTimeout(r, this.#retryDelayMs()));
      return this.#limiter.run(() => this.#attempt(url, pick, trace), this.#timeoutMs);
    }
  }

  /**
   * One HTTP client span per attempt (OpenTelemetry HTTP conventions); its context goes upstream in
   * `traceparent`.
   */
  #attempt<T>(
    url: URL,
    pick: (json: unknown) => T | undefined,
    trace: SpanContext | undefined,
  ): Promise<T> {
    const attributes = {
      "http.request.method": "GET",
      "server.address": url.hostname,
      "url.full": `${url.origin}${url.pathname}`,
    };
    return inSpan(
      "GET",
      { kind: "client", attributes, parent: trace, current: false },
      async (span) => {
        try {
          return await this.#request(url, pick, span.context, (status) =>
            span.setAttributes({ "http.response.status_code": status }),
          );
        } catch (err) {
          if (err instanceof UpstreamError)
            span.setError(
              err.upstreamStatus ? String(err.upstreamStatus) : (err.reason ?? err.kind),
            );
          throw err;
        }
      },
    );
  }

  async #request<T>(
    url: URL,
    pick: (json: unknown) => T | undefined,
    trace: SpanContext,
    onStatus: (status: number) => void,
  ): Promise<T> {
    const { res, body } = await this.#send(url, trace, onStatus);
    if (!res.ok) throw statusError(res.status, url, body);
    const where = `${url.host}${url.pathname}`;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      const message = "The exchange-rate service sent a response that is not JSON";
      throw new UpstreamError(
        "bad_response",
        message,
        res.status,
        "bad_json",
        `${where}: body is not JSON`,
      );
    }
    let value: T | undefined;
    let problem = "unexpected JSON shape";
    try {
      value = pick(json);
    } catch (err) {
      if (!(err instanceof BadAnswer)) throw err;
      problem = err.message;
    }
    if (value !== undefined) return value;
    const message = "The exchange-rate service sent an unexpected response";
    throw new UpstreamError(
      "bad_response",
      message,
      res.status,
      "bad_shape",
      `${where}: ${problem}`,
    );
  }

  /** One GET and its body, bounded in time and size; a failure to get them is an UpstreamError. */
  async #send(
    url: URL,
    trace: SpanContext,
    onStatus: (status: number) => void,
  ): Promise<{ res: Response; body: string }> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const headers = { accept: "application/json", ...propagationFields(trace) };
    let status: number | undefined;
    try {
      const res = await this.#fetch(url, { headers, signal, redirect: "follow" });
      status = res.status;
      onStatus(status);
      // An error's body only lends its message: read a little of it, never fail on its size.
      const body = res.ok
        ? await readCapped(res, this.#maxBodyBytes)
        : await readCapped(res, 16 * 1024, true);
      return { res, body };
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        const message = "The exchange-rate service sent a response that is too large";
        throw new UpstreamError("bad_response", message, status, "too_large", err.message);
      }
      const name = err instanceof Error ? err.name : "";
      if (signal.aborted || name === "TimeoutError" || name === "AbortError") {
        const message = `The exchange-rate service did not answer within ${this.#timeoutMs} ms`;
        const detail = `no answer from ${url.host} within ${this.#timeoutMs} ms`;
        throw new UpstreamError("timeout", message, undefined, "timeout", detail);
      }
      const { reason, detail } = describeNetworkError(err);
      const message = "The exchange-rate service cannot be reached right now";
      throw new UpstreamError("unavailable", message, undefined, reason, detail);
    }
  }
}

/**
 * An upstream answer that is not 2xx, worded for the caller; the upstream's message for the log.
 */
function statusError(status: number, url: URL, body: string): UpstreamError {
  const said = upstreamMessage(body);
  const detail = `HTTP ${status} from ${url.host}${url.pathname}${said ? `: ${said}` : ""}`;
  const fail = (kind: UpstreamError["kind"], message: string): UpstreamError =>
    new UpstreamError(kind, message, status, "status", detail);
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

/**
 * Rounds a converted amount as a person expects for the currency (to its minor unit), but keeps at
 * least 3 significant digits so that small results (1 JPY in USD) don't round to 0.
 */
export function roundForCurrency(value: number, code: string): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const minor = minorUnits(code);
  // Decimals for 3 significant digits: past the minor unit, round by significance (toFixed would
  // cap the decimals and turn 1e-300 into 0).
  const significant = 2 - Math.floor(Math.log10(Math.abs(value)));
  return significant > minor ? Number(value.toPrecision(3)) : Number(value.toFixed(minor));
}

/**
 * The `message` forms of Frankfurter's 4xx answers (v1, and v2's lib/versions/v2.rb and
 * rate_query.rb), bounded: "invalid currency: XYZ" names the codes at fault.
 */
const KNOWN_MESSAGE =
  /^(?:not found|invalid (?:date|group|amount)|conflicting params|invalid currency: [A-Z]{3}(?:,[A-Z]{3}){0,3}|unknown parameter: [a-z_]{1,20}(?:, [a-z_]{1,20}){0,3})$/;

/** What is kept of a name or symbol the rates API gives. */
const MAX_NAME = 100;
const MAX_SYMBOL = 16;

/** An answer that breaks one of the checks below; its message goes to the log. */
class BadAnswer extends Error {}

/**
 * Every value the rates API sends is checked before it is cached or reaches a tool result (and a
 * model): codes and dates in their ISO forms, the codes asked for, rates positive and finite (a
 * zero or negative rate would become an answer), and names as plain one-line text of bounded
 * length, since free text from outside is a carrier for instructions to a model.
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
