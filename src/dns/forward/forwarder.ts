import type { AddressInfo } from 'node:net';
import type { Question } from './message.ts';

/**
 * Where names outside the cluster zones go (and cluster names that fall
 * through). The real one (upstreams from the Corefile's `forward`, with its
 * own health checks) lives in src/dns/forward/; the server only needs this.
 *
 * `forward` gets the query exactly as the client sent it and resolves to
 * the reply to send back (its ID already the query's), or null when no
 * upstream answered: the server then replies SERVFAIL. It must not throw;
 * a rejection is treated as null.
 *
 * With no forwarder configured the server answers REFUSED for such names:
 * it is not a recursive resolver, and REFUSED tells a stub resolver at once
 * to try its next nameserver instead of waiting.
 */
export interface Forwarder {
  /**
   * `proto` is the client's transport: `forward` asks upstreams over TCP
   * for TCP clients, as CoreDNS does unless `prefer_udp` (UDP when absent).
   * `question` is the query's, when the caller has read it already (each
   * step would read it again otherwise).
   */
  forward(query: Buffer, proto?: 'udp' | 'tcp', question?: Question | null): Promise<Buffer | null>;
  /**
   * A reply available now (a cache hit), or null: the server then calls
   * forward(). Optional; lets a cached answer leave with its batch.
   */
  lookup?(query: Buffer, question?: Question): Buffer | null;
  /** Called once the server's sockets are bound (the loop check probes them); optional. */
  start?(addresses: AddressInfo[]): void | Promise<void>;
  /** Stops health checks, reload timers and upstream sockets; optional. */
  stop?(): void;
}
