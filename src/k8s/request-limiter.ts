// Client-side limits on API requests, as client-go's QPS/burst token bucket
// and a cap on requests in flight: CoreDNS's `apiserver_qps`,
// `apiserver_burst` and `apiserver_max_inflight`. A request waits for a token
// and a free slot; it never fails for the limit.

export interface RequestLimits {
  /** Average requests per second; absent: no rate limit. */
  qps?: number;
  /** Tokens the bucket holds (requests allowed at once after a quiet time); default max(1, ceil(qps)). */
  burst?: number;
  /** Requests waiting for their answer at once; absent: no cap. */
  maxInflight?: number;
}

export class RequestLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #maxInflight: number;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;
  #inflight = 0;
  /** Requests waiting, in arrival order: each is resolved once it holds a token and a slot. */
  readonly #queue: Array<{ grant: (release: () => void) => void }> = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(limits: RequestLimits, now: () => number = () => performance.now()) {
    this.#qps = limits.qps ?? Infinity;
    this.#burst = limits.burst ?? Math.max(1, Math.ceil(Number.isFinite(this.#qps) ? this.#qps : 1));
    this.#maxInflight = limits.maxInflight ?? Infinity;
    this.#now = now;
    this.#tokens = this.#burst;
    this.#refilledAt = now();
  }

  /** Resolves with the function that gives the slot back, once the request may be sent. */
  acquire(): Promise<() => void> {
    return new Promise((grant) => {
      this.#queue.push({ grant });
      this.#drain();
    });
  }

  /** Requests being answered now (for tests and logs). */
  get inflight(): number {
    return this.#inflight;
  }

  #refill(): void {
    if (!Number.isFinite(this.#qps)) return;
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#qps);
    this.#refilledAt = now;
  }

  #drain(): void {
    this.#refill();
    while (this.#queue.length > 0 && this.#inflight < this.#maxInflight && (!Number.isFinite(this.#qps) || this.#tokens >= 1)) {
      if (Number.isFinite(this.#qps)) this.#tokens -= 1;
      this.#inflight++;
      let released = false;
      this.#queue.shift()!.grant(() => {
        if (released) return;
        released = true;
        this.#inflight--;
        this.#drain();
      });
    }
    // Waiting for a token (a slot's release drains by itself): wake when the next one is due.
    if (this.#queue.length > 0 && this.#inflight < this.#maxInflight && this.#timer === null) {
      const waitMs = Math.max(1, ((1 - this.#tokens) / this.#qps) * 1000);
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#drain();
      }, waitMs);
    }
  }
}
