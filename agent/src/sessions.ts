import type { Content } from "./models/types.js";

export interface SessionKey {
  app: string;
  userId: string;
  sessionId: string;
}

/**
 * Where conversations live. Narrow on purpose: a shared store (Firestore, Redis, …) for several
 * instances implements these two calls and nothing in the chat code changes.
 */
export interface SessionStore {
  /** The history, or an empty one for a new session: there is no "session not found". */
  load(key: SessionKey): Promise<Content[]>;
  save(key: SessionKey, history: readonly Content[]): Promise<void>;
}

export interface MemoryStoreOptions {
  ttlMs: number;
  maxSessions: number;
  maxMessages: number;
  now?: () => number;
}

/** In-memory store: idle sessions expire, the least recently used go first past the bound. */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, { history: Content[]; touched: number }>();
  readonly #now: () => number;

  constructor(private readonly opts: MemoryStoreOptions) {
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#sessions.size;
  }

  async load(key: SessionKey): Promise<Content[]> {
    const id = keyOf(key);
    const entry = this.#sessions.get(id);
    if (!entry) return [];
    if (this.#now() - entry.touched > this.opts.ttlMs) {
      this.#sessions.delete(id);
      return [];
    }
    return [...entry.history];
  }

  async save(key: SessionKey, history: readonly Content[]): Promise<void> {
    const id = keyOf(key);
    this.#sessions.delete(id); // re-insert at the end: Map order is the LRU order
    this.#sessions.set(id, { history: trimHistory(history, this.opts.maxMessages), touched: this.#now() });
    this.sweep();
  }

  /** Drops expired sessions (oldest first, so it stops at the first live one) and enforces the bound. */
  sweep(): void {
    const now = this.#now();
    for (const [id, entry] of this.#sessions) {
      if (now - entry.touched <= this.opts.ttlMs) break;
      this.#sessions.delete(id);
    }
    while (this.#sessions.size > this.opts.maxSessions) {
      this.#sessions.delete(this.#sessions.keys().next().value as string);
    }
  }
}

const keyOf = (k: SessionKey): string => JSON.stringify([k.app, k.userId, k.sessionId]);

/** Keeps the newest messages, starting at a user's own words so no tool answer loses its call. */
export function trimHistory(history: readonly Content[], max: number): Content[] {
  if (history.length <= max) return [...history];
  let start = history.length - max;
  while (start < history.length && !isUserText(history[start]!)) start++;
  return history.slice(start);
}

const isUserText = (c: Content): boolean => c.role === "user" && c.parts.some((p) => "text" in p);

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
