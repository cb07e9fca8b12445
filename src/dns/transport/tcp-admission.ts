/** Caps on a server's DNS-over-TCP connections (each worker thread's server has its own). */
export interface TcpLimits {
  /** Open connections in all; past it a new connection is closed at once. */
  maxConnections: number;
  /** Open connections from one source address. */
  maxPerSource: number;
}

/**
 * CoreDNS sets no cap (only the process's file limit, which issue 13 ran
 * out of); other servers do: BIND's tcp-clients is 150, PowerDNS
 * Recursor's max-tcp-clients 128, Unbound's incoming-num-tcp 10 per thread.
 * TCP is the rare path here (truncated replies, zone-less stubs), each
 * connection lives for a query or a few, so 256 per server is far above a
 * node's need and far below a file limit. Per source 32, not less: every
 * hostNetwork pod of a node (and any SNATed client) shares one address.
 */
export const DEFAULT_TCP_LIMITS: TcpLimits = { maxConnections: 256, maxPerSource: 32 };

/** Counts open connections in all and per source address, and says whether one more may stay. */
export class TcpAdmission {
  readonly #limits: TcpLimits;
  readonly #perSource = new Map<string, number>();
  #total = 0;

  constructor(limits: TcpLimits = DEFAULT_TCP_LIMITS) {
    this.#limits = limits;
  }

  /** Takes a place for a connection from `source`; false when a cap is reached (nothing taken). */
  admit(source: string): boolean {
    const n = this.#perSource.get(source) ?? 0;
    if (this.#total >= this.#limits.maxConnections || n >= this.#limits.maxPerSource) return false;
    this.#perSource.set(source, n + 1);
    this.#total++;
    return true;
  }

  /** Gives back the place admit() took. */
  release(source: string): void {
    const n = this.#perSource.get(source) ?? 0;
    if (n <= 1) this.#perSource.delete(source);
    else this.#perSource.set(source, n - 1);
    this.#total--;
  }

  get total(): number {
    return this.#total;
  }
}
