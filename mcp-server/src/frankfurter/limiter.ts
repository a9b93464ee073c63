import { type ServiceError, upstreamError } from "../errors.js";

/**
 * A bound on concurrent upstream requests; callers past it wait in a bounded queue, for at most
 * `waitMs`.
 */
export class Limiter {
  #active = 0;
  readonly #queue: Array<{ start: () => void; timer: ReturnType<typeof setTimeout> }> = [];

  constructor(
    readonly max: number,
    readonly maxQueue: number,
  ) {}

  get queued(): number {
    return this.#queue.length;
  }

  async run<T>(fn: () => Promise<T>, waitMs: number): Promise<T> {
    await this.#acquire(waitMs);
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #acquire(waitMs: number): Promise<void> {
    if (this.#active < this.max) {
      this.#active++;
      return Promise.resolve();
    }
    const busy = (): ServiceError =>
      upstreamError("busy", "The exchange-rate service is busy right now: try again in a moment", {
        reason: "busy",
        detail: `${this.#active} requests in flight, ${this.#queue.length} queued`,
      });
    if (this.#queue.length >= this.maxQueue) return Promise.reject(busy());
    return new Promise<void>((resolve, reject) => {
      const entry = {
        start: resolve,
        timer: setTimeout(() => {
          const i = this.#queue.indexOf(entry);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(busy());
        }, waitMs),
      };
      this.#queue.push(entry);
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) {
      // The slot passes straight to the next caller: the active count stays the same.
      clearTimeout(next.timer);
      next.start();
    } else {
      this.#active--;
    }
  }
}
