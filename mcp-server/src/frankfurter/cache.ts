export interface CacheResult<T> {
  value: T;
  hit: boolean;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
  bytes: number;
}

/** An entry's cost, roughly: key and value as JSON at two bytes a character, and the Map slot. */
export function approximateBytes(key: string, value: unknown): number {
  return 64 + 2 * (key.length + (JSON.stringify(value)?.length ?? 0));
}

/** An LRU cache with expiry, bounded in entries and bytes; concurrent loads of a key are one. */
export class TtlCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #inflight = new Map<string, Promise<T>>();
  #bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Approximate bytes held (see approximateBytes); never above maxBytes. */
  get bytes(): number {
    return this.#bytes;
  }

  async get(
    key: string,
    load: () => Promise<{ value: T; expiresAt: number }>,
  ): Promise<CacheResult<T>> {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > this.now()) {
      this.#entries.delete(key); // re-insert: Map order is the LRU order
      this.#entries.set(key, entry);
      return { value: entry.value, hit: true };
    }
    if (entry) this.#delete(key, entry);

    const pending = this.#inflight.get(key);
    if (pending) return { value: await pending, hit: true };

    const promise = load().then(({ value, expiresAt }) => {
      if (expiresAt > this.now()) this.#set(key, value, expiresAt);
      return value;
    });
    this.#inflight.set(key, promise);
    try {
      return { value: await promise, hit: false };
    } finally {
      this.#inflight.delete(key);
    }
  }

  #set(key: string, value: T, expiresAt: number): void {
    const bytes = approximateBytes(key, value);
    // Bigger than the whole budget: served, not kept (it would flush everything else).
    if (bytes > this.maxBytes) return;
    const old = this.#entries.get(key);
    if (old) this.#delete(key, old);
    this.#entries.set(key, { value, expiresAt, bytes });
    this.#bytes += bytes;
    while (this.#entries.size > this.maxEntries || this.#bytes > this.maxBytes) {
      const [oldest, e] = this.#entries.entries().next().value as [string, Entry<T>];
      this.#delete(oldest, e);
    }
  }

  #delete(key: string, entry: Entry<T>): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}

const HOUR = 3_600_000;

/** A v1 `latest` expires at 14:00 UTC (the ECB publishes ~16:00 CET), or after `maxTtlMs`. */
export function latestExpiry(now: number, maxTtlMs = HOUR): number {
  const d = new Date(now);
  const window = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 14);
  const next = window > now ? window : window + 24 * HOUR;
  return Math.min(next, now + maxTtlMs);
}
