/**
 * Exponential backoff with jitter and a cap, as client-go's reflector uses
 * (initial 800 ms, factor 2, capped at 30 s, jitter 1.0: each delay is drawn
 * between d and 2d, never above the cap). `reset()` after a success.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #current: number;

  constructor(options: { initialMs?: number; maxMs?: number; factor?: number; jitter?: number; random?: () => number } = {}) {
    this.#initialMs = options.initialMs ?? 800;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 1;
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs > 0) || !(this.#maxMs >= this.#initialMs) || !(this.#factor >= 1)) {
      throw new RangeError('backoff: need 0 < initialMs <= maxMs and factor >= 1');
    }
    this.#current = this.#initialMs;
  }

  /** The next delay in ms; grows until the cap. */
  next(): number {
    const base = this.#current;
    this.#current = Math.min(this.#maxMs, this.#current * this.#factor);
    return Math.min(this.#maxMs, base * (1 + this.#jitter * this.#random()));
  }

  reset(): void {
    this.#current = this.#initialMs;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
