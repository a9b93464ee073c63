/**
 * A small LRU cache with per-entry expiry and single-flight loading: concurrent `get`s for the same key
 * share one load, failures are not cached, and the entry count is bounded.
 */
export interface CacheResult<T> {
  value: T;
  hit: boolean;
}

export class TtlCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();
  readonly #inflight = new Map<string, Promise<T>>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string, load: () => Promise<{ value: T; expiresAt: number }>): Promise<CacheResult<T>> {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > this.now()) {
      this.#entries.delete(key); // re-insert: Map order is the LRU order
      this.#entries.set(key, entry);
      return { value: entry.value, hit: true };
    }
    if (entry) this.#entries.delete(key);

    const pending = this.#inflight.get(key);
    if (pending) return { value: await pending, hit: true };

    const promise = load().then(({ value, expiresAt }) => {
      if (expiresAt > this.now()) {
        this.#entries.set(key, { value, expiresAt });
        while (this.#entries.size > this.maxEntries) {
          const oldest = this.#entries.keys().next().value as string;
          this.#entries.delete(oldest);
        }
      }
      return value;
    });
    this.#inflight.set(key, promise);
    try {
      return { value: await promise, hit: false };
    } finally {
      this.#inflight.delete(key);
    }
  }
}

const HOUR = 3_600_000;

/**
 * When a `latest` answer may change: the ECB publishes around 16:00 CET on working days, and
 * Frankfurter picks it up shortly after. Expire at the next 14:00 UTC (the earliest that can be, in
 * summer time) and never keep it longer than `maxTtlMs`.
 */
export function latestExpiry(now: number, maxTtlMs = HOUR): number {
  const d = new Date(now);
  const window = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 14);
  const next = window > now ? window : window + 24 * HOUR;
  return Math.min(next, now + maxTtlMs);
}
