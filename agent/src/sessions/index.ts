import { getHeapStatistics } from "node:v8";
import { AppError } from "../errors.js";
import type { Content } from "../models/types.js";

export interface SessionKey {
  app: string;
  userId: string;
  sessionId: string;
}

/** One turn's view of a session, held while the turn runs (see SessionStore.withSession). */
export interface SessionHandle {
  /** The history, or an empty one for a new session: there is no "session not found". */
  load(): Promise<Content[]>;
  /** Saves the whole history (the loaded one plus this turn), trimmed to the store's bounds. */
  save(history: readonly Content[]): Promise<void>;
}

/**
 * Where conversations live. Contents are opaque JSON: every field a model puts in a part (thought
 * signatures, call ids, …) is kept, and counts in the byte bounds.
 */
export interface SessionStore {
  /** "memory" or "firestore", shown by GET /. */
  readonly kind: string;
  /**
   * Runs one turn with the session held: turns on one session run one after another, across every
   * instance that shares the store, and each sees the history the previous one saved.
   */
  withSession<T>(
    key: SessionKey,
    fn: (session: SessionHandle) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
  /** Reads the history without holding the session (does an anonymous caller's id exist?). */
  load(key: SessionKey): Promise<Content[]>;
  /** Saves a history while holding the session. */
  save(key: SessionKey, history: readonly Content[]): Promise<void>;
  /** Throws an AppError when the store cannot serve (for /ready). */
  check(): Promise<void>;
  close?(): Promise<void>;
}

/** What one conversation keeps: messages, and JSON bytes (UTF-8). */
export interface Bounds {
  maxMessages: number;
  maxBytes: number;
}

/**
 * Fits a history to the bounds by dropping the oldest whole exchanges, so it still starts at a user's
 * own words and no tool answer loses its call. The last exchange (this turn) is never cut: if it alone
 * is over the byte bound, a 413 turn_too_large, and nothing is saved.
 * Returns the kept history and its JSON.
 */
export function fitHistory(
  history: readonly Content[],
  bounds: Bounds,
): { history: Content[]; json: string } {
  // suffix[i]: JSON bytes of history.slice(i) ("[" + items joined by "," + "]").
  const suffix = new Array<number>(history.length + 1).fill(2);
  for (let i = history.length - 1; i >= 0; i--) {
    suffix[i] =
      suffix[i + 1]! +
      Buffer.byteLength(JSON.stringify(history[i])) +
      (i < history.length - 1 ? 1 : 0);
  }
  const starts = history.flatMap((c, i) => (isUserText(c) ? [i] : []));
  if (starts.length === 0) starts.push(0);
  const lastStart = starts.at(-1)!;
  const bytes = suffix[lastStart]!;
  if (bytes > bounds.maxBytes) {
    throw new AppError(
      413,
      "turn_too_large",
      `This turn (${bytes} bytes of messages and tool results) is larger than a conversation may hold (${bounds.maxBytes} bytes), so it was not saved; ask for less at once (for example a shorter date range) or start a new session`,
    );
  }
  // The oldest exchange start that fits both bounds; one turn longer than maxMessages is kept whole.
  const start =
    starts.find((s) => suffix[s]! <= bounds.maxBytes && history.length - s <= bounds.maxMessages) ??
    lastStart;
  const kept = history.slice(start);
  return { history: kept, json: JSON.stringify(kept) };
}

const isUserText = (c: Content): boolean => c.role === "user" && c.parts.some((p) => "text" in p);

export const keyOf = (k: SessionKey): string => JSON.stringify([k.app, k.userId, k.sessionId]);

/** Bytes a string takes in V8's heap: one per character when all are Latin-1, else two. */
const heapBytes = (s: string): number => (/[\u0100-\uffff]/.test(s) ? 2 * s.length : s.length);
/** Map entry, key string and bookkeeping, measured roughly: a floor per session. */
const ENTRY_OVERHEAD = 256;

export interface MemoryStoreOptions {
  ttlMs: number;
  maxSessions: number;
  maxMessages: number;
  /** JSON bytes per conversation (default 256 KiB). */
  maxSessionBytes?: number;
  /**
   * Bytes all conversations may take together (default: a quarter of the heap, at most 128 MiB): past
   * it the least recently used go.
   */
  maxTotalBytes?: number | undefined;
  now?: () => number;
}

export const MEMORY_DEFAULTS = {
  maxSessionBytes: 256 * 1024,
  // A quarter of the heap leaves the rest to turns in flight and to the collector, whatever heap the
  // instance was given (--max-old-space-size, Cloud Run's memory); 128 MiB suits a 512 MiB instance.
  maxTotalBytes: Math.min(128 * 1024 * 1024, Math.floor(getHeapStatistics().heap_size_limit / 4)),
} as const;

/** What a BoundedMap holds: entries, their bytes together, and how long an unused one lives. */
export interface MapBounds {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  now?: (() => number) | undefined;
}

/**
 * One instance's memory of something, bounded in count, bytes and age: an entry unused for ttlMs is
 * gone, and past a bound the least recently used go first. Map order is use order. Each entry's
 * bytes are the caller's measure of it.
 */
export class BoundedMap<V> {
  readonly #entries = new Map<string, { value: V; bytes: number; used: number }>();
  #bytes = 0;

  constructor(private readonly bounds: MapBounds) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held by all entries, as counted against maxBytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The value, if it has not expired; it becomes the most recently used. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#drop(key);
    if (this.#now() - entry.used > this.bounds.ttlMs) return undefined;
    this.set(key, entry.value, entry.bytes);
    return entry.value;
  }

  set(key: string, value: V, bytes: number): void {
    this.#drop(key);
    this.#entries.set(key, { value, bytes, used: this.#now() });
    this.#bytes += bytes;
    this.sweep();
  }

  #drop(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  /** Drops expired entries (oldest first: stops at the first live one) and enforces the bounds. */
  sweep(): void {
    const { maxEntries, maxBytes, ttlMs } = this.bounds;
    for (const [key, entry] of this.#entries) {
      if (this.#now() - entry.used <= ttlMs) break;
      this.#drop(key);
    }
    while (this.#entries.size > maxEntries || (this.#bytes > maxBytes && this.#entries.size > 1)) {
      this.#drop(this.#entries.keys().next().value as string);
    }
  }

  #now(): number {
    return (this.bounds.now ?? Date.now)();
  }
}

/**
 * In-memory store for one instance. Histories are held as JSON strings: their heap cost is known
 * (so the byte bound is honest), and a caller can never mutate what is stored.
 */
export class MemorySessionStore implements SessionStore {
  readonly kind = "memory";
  readonly #sessions: BoundedMap<string>;
  readonly #locks = new KeyedMutex();
  readonly #bounds: Bounds;
  readonly #sweeper: ReturnType<typeof setInterval>;

  constructor(opts: MemoryStoreOptions) {
    this.#sessions = new BoundedMap({
      maxEntries: opts.maxSessions,
      maxBytes: opts.maxTotalBytes ?? MEMORY_DEFAULTS.maxTotalBytes,
      ttlMs: opts.ttlMs,
      now: opts.now,
    });
    this.#bounds = {
      maxMessages: opts.maxMessages,
      maxBytes: opts.maxSessionBytes ?? MEMORY_DEFAULTS.maxSessionBytes,
    };
    this.#sweeper = setInterval(() => this.sweep(), 60_000);
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Bytes held by all sessions, as counted against maxTotalBytes. */
  get bytes(): number {
    return this.#sessions.bytes;
  }

  withSession<T>(key: SessionKey, fn: (session: SessionHandle) => Promise<T>): Promise<T> {
    return this.#locks.run(keyOf(key), () =>
      fn({ load: () => this.load(key), save: (h) => this.#put(key, h) }),
    );
  }

  async load(key: SessionKey): Promise<Content[]> {
    const json = this.#sessions.get(keyOf(key));
    return json === undefined ? [] : (JSON.parse(json) as Content[]);
  }

  save(key: SessionKey, history: readonly Content[]): Promise<void> {
    return this.withSession(key, (s) => s.save(history));
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  async #put(key: SessionKey, history: readonly Content[]): Promise<void> {
    const id = keyOf(key);
    const { json } = fitHistory(history, this.#bounds);
    this.#sessions.set(id, json, heapBytes(json) + 2 * id.length + ENTRY_OVERHEAD);
  }

  sweep(): void {
    this.#sessions.sweep();
  }
}

/** Runs tasks for the same key one after another; different keys run in parallel. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
