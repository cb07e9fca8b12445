// kube-proxy's BoundedFrequencyRunner (pkg/util/async): runs one async
// function at most once per `minIntervalMs` and at least once per
// `maxIntervalMs`. Requests that arrive while a run is due or in progress are
// merged into one run; `retryAfter` schedules a retry and keeps the soonest one.
// Time comes from an injected clock so tests advance it by hand.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface RunnerOptions {
  name: string;
  minIntervalMs: number;
  maxIntervalMs: number;
  clock?: Clock;
  /** Called when `fn` throws; the runner itself keeps going. */
  onError?: (err: unknown) => void;
}

export class BoundedFrequencyRunner {
  readonly name: string;
  readonly #fn: () => Promise<void>;
  readonly #min: number;
  readonly #max: number;
  readonly #clock: Clock;
  readonly #onError: (err: unknown) => void;
  #lastRun = -Infinity;
  #timer: unknown;
  #timerAt = Infinity;
  #running = false;
  /** A run was requested while one was in progress. */
  #pending = false;
  #stopped = true;
  #idle: Promise<void> = Promise.resolve();

  constructor(fn: () => Promise<void>, opts: RunnerOptions) {
    if (!(opts.minIntervalMs >= 0)) throw new RangeError(`${opts.name}: minIntervalMs must be >= 0`);
    if (!(opts.maxIntervalMs > 0) || opts.maxIntervalMs < opts.minIntervalMs) {
      throw new RangeError(`${opts.name}: maxIntervalMs must be > 0 and >= minIntervalMs`);
    }
    this.name = opts.name;
    this.#fn = fn;
    this.#min = opts.minIntervalMs;
    this.#max = opts.maxIntervalMs;
    this.#clock = opts.clock ?? systemClock;
    this.#onError = opts.onError ?? (() => {});
  }

  /** Starts the periodic loop with an immediate first run. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(this.#clock.now());
  }

  /** Stops scheduling; resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer();
    await this.#idle;
  }

  /** Asks for a run as soon as minInterval allows; merged with other requests. */
  run(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#pending = true;
      return;
    }
    this.#schedule(Math.max(this.#clock.now(), this.#lastRun + this.#min));
  }

  /** Asks for a run after `delayMs` (still not sooner than minInterval); the soonest retry wins. */
  retryAfter(delayMs: number): void {
    if (this.#stopped) return;
    this.#schedule(Math.max(this.#clock.now() + delayMs, this.#lastRun + this.#min));
  }

  /** When the next run is due (ms on the clock), Infinity when none is scheduled. */
  get nextRunAt(): number {
    return this.#timerAt;
  }

  get lastRunAt(): number {
    return this.#lastRun;
  }

  #schedule(at: number): void {
    if (at >= this.#timerAt) return;
    this.#cancelTimer();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), Math.max(0, at - this.#clock.now()));
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#stopped) return;
    if (this.#running) {
      this.#pending = true;
      return;
    }
    this.#running = true;
    this.#pending = false;
    this.#lastRun = this.#clock.now();
    this.#idle = this.#invoke().finally(() => {
      this.#running = false;
      if (this.#stopped) return;
      // The periodic run; a merged request or retry pulls it closer.
      this.#schedule(this.#lastRun + this.#max);
      if (this.#pending) {
        this.#pending = false;
        this.#schedule(this.#lastRun + this.#min);
      }
    });
  }

  async #invoke(): Promise<void> {
    try {
      await this.#fn();
    } catch (err) {
      this.#onError(err);
    }
  }
}
