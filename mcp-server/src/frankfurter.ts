import { TtlCache, latestExpiry } from "./cache.js";
import { todayUtc } from "./validation.js";

export interface Rates {
  amount: number;
  base: string;
  date: string;
  rates: Record<string, number>;
}
export interface TimeSeries {
  amount: number;
  base: string;
  start_date: string;
  end_date: string;
  rates: Record<string, Record<string, number>>;
}
export type Currencies = Record<string, string>;

/** An upstream failure worded for the caller; `kind` lets tools and tests tell them apart. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: "not_found" | "invalid" | "unavailable" | "timeout" | "bad_response",
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

export interface FrankfurterOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: () => number;
  cacheMaxEntries?: number;
  /** Delay before the single retry; jittered so that many instances don't retry in step. */
  retryDelayMs?: () => number;
}

export interface Fetched<T> {
  value: T;
  cacheHit: boolean;
}

/** Frankfurter (ECB reference rates) client: timeout, one retry, error mapping, cache. */
export class FrankfurterClient {
  readonly #base: URL;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #retryDelayMs: () => number;
  readonly #cache: TtlCache<unknown>;

  constructor(opts: FrankfurterOptions) {
    // A trailing slash makes relative resolution append to the configured path (…/v1/latest).
    this.#base = new URL(opts.baseUrl.endsWith("/") ? opts.baseUrl : `${opts.baseUrl}/`);
    this.#fetch = opts.fetch ?? fetch;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
    this.#retryDelayMs = opts.retryDelayMs ?? (() => 200 + Math.random() * 300);
    this.#cache = new TtlCache(opts.cacheMaxEntries ?? 1000, this.#now);
  }

  /** Builds the upstream URL. Callers pass validated values only; the path segment is checked again here. */
  url(path: string, params: Record<string, string | number | undefined> = {}): URL {
    if (!/^(latest|currencies|\d{4}-\d{2}-\d{2}(\.\.(\d{4}-\d{2}-\d{2})?)?)$/.test(path)) {
      throw new Error(`refusing to build an upstream URL for path ${JSON.stringify(path)}`);
    }
    const url = new URL(path, this.#base);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  rates(from: string, to: string, date: string, amount: number): Promise<Fetched<Rates>> {
    const url = this.url(date, { base: from, symbols: to, amount: amount === 1 ? undefined : amount });
    const expiresAt = date === "latest" ? latestExpiry(this.#now()) : Number.POSITIVE_INFINITY;
    return this.#cached<Rates>(url, expiresAt, isRates);
  }

  history(from: string, to: string, start: string, end: string | undefined): Promise<Fetched<TimeSeries>> {
    const url = this.url(`${start}..${end ?? ""}`, { base: from, symbols: to });
    const settled = end !== undefined && end < todayUtc(this.#now());
    const expiresAt = settled ? Number.POSITIVE_INFINITY : latestExpiry(this.#now());
    return this.#cached<TimeSeries>(url, expiresAt, isTimeSeries);
  }

  currencies(): Promise<Fetched<Currencies>> {
    const expiresAt = this.#now() + 24 * 3_600_000;
    return this.#cached<Currencies>(this.url("currencies"), expiresAt, isCurrencies);
  }

  async #cached<T>(url: URL, expiresAt: number, check: (v: unknown) => v is T): Promise<Fetched<T>> {
    const { value, hit } = await this.#cache.get(url.href, async () => ({
      value: await this.#fetchJson(url, check),
      expiresAt,
    }));
    return { value: value as T, cacheHit: hit };
  }

  async #fetchJson<T>(url: URL, check: (v: unknown) => v is T): Promise<T> {
    try {
      return await this.#attempt(url, check);
    } catch (err) {
      if (!(err instanceof UpstreamError) || !["unavailable", "timeout"].includes(err.kind)) throw err;
      await new Promise((r) => setTimeout(r, this.#retryDelayMs()));
      return this.#attempt(url, check);
    }
  }

  async #attempt<T>(url: URL, check: (v: unknown) => v is T): Promise<T> {
    let res: Response;
    try {
      res = await this.#fetch(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: "follow",
      });
    } catch (err) {
      if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
        throw new UpstreamError("timeout", `The exchange-rate service did not answer within ${this.#timeoutMs} ms`);
      }
      throw new UpstreamError("unavailable", "The exchange-rate service cannot be reached right now");
    }
    const body = await res.text().catch(() => "");
    if (res.status === 404) {
      throw new UpstreamError("not_found", upstreamMessage(body) ?? "not found", 404);
    }
    if (res.status === 422 || res.status === 400) {
      throw new UpstreamError("invalid", upstreamMessage(body) ?? "invalid request", res.status);
    }
    if (res.status >= 500 || res.status === 429) {
      throw new UpstreamError("unavailable", `The exchange-rate service failed (HTTP ${res.status})`, res.status);
    }
    if (!res.ok) {
      throw new UpstreamError("bad_response", `The exchange-rate service answered HTTP ${res.status}`, res.status);
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new UpstreamError("bad_response", "The exchange-rate service sent a response that is not JSON");
    }
    if (!check(json)) throw new UpstreamError("bad_response", "The exchange-rate service sent an unexpected response");
    return json;
  }
}

function upstreamMessage(body: string): string | undefined {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === "string" ? m.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const numbers = (v: unknown): boolean => isObject(v) && Object.values(v).every((n) => typeof n === "number");

function isRates(v: unknown): v is Rates {
  return isObject(v) && typeof v.amount === "number" && typeof v.base === "string" && typeof v.date === "string" && numbers(v.rates);
}
function isTimeSeries(v: unknown): v is TimeSeries {
  return (
    isObject(v) && typeof v.amount === "number" && typeof v.base === "string" &&
    typeof v.start_date === "string" && typeof v.end_date === "string" &&
    isObject(v.rates) && Object.values(v.rates).every(numbers)
  );
}
function isCurrencies(v: unknown): v is Currencies {
  return isObject(v) && Object.values(v).every((n) => typeof n === "string");
}
