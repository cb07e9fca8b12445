import net from 'node:net';
import tls from 'node:tls';
import type { UpstreamAddress } from './upstream-list.ts';
import { ExchangeError, UpstreamSocket } from './upstream-socket.ts';

export { ExchangeError } from './upstream-socket.ts';

const MAX_TCP_REPLY = 65535;

/**
 * One upstream server: a connected UDP socket shared by all queries to it
 * (upstream-socket.ts), and a TCP connection per query for the rare
 * truncated reply or `force_tcp`. A `tls://` upstream gets every query,
 * health checks too, on a TLS connection of its own (RFC 7858); connections
 * are not kept between queries.
 *
 * The shared socket's life cycle, as CoreDNS's forward plugin has it: made
 * on first use; closed when it errs while connecting (the next query makes
 * a new one), when idle for `expire`, or when a health check succeeds after
 * failures (a socket that failed while a fresh one got through is not
 * trusted again). Health checks go over a socket of their own, made and
 * closed per check, so they neither keep the shared socket from expiring nor
 * depend on it.
 */
export class Upstream {
  readonly address: UpstreamAddress;
  /** Failures in a row (exchanges and health checks); a success resets it. */
  fails = 0;
  readonly #expireMs: number;
  readonly #tls: tls.ConnectionOptions | null;
  #socket: UpstreamSocket | null = null;
  /** Sockets closing, each once its last query settles (renew()), and health-check sockets. */
  readonly #others = new Set<UpstreamSocket>();
  #expiry: NodeJS.Timeout | null = null;

  constructor(address: UpstreamAddress, opts: { expireMs: number; tls?: tls.ConnectionOptions }) {
    this.address = address;
    this.#expireMs = opts.expireMs;
    this.#tls = address.tls ? (opts.tls ?? {}) : null;
  }

  /** Down once it failed more than `maxFails` times in a row (0: never). */
  isDown(maxFails: number): boolean {
    return maxFails > 0 && this.fails > maxFails;
  }

  exchange(query: Buffer, tcp: boolean, timeoutMs: number): Promise<Buffer> {
    return tcp || this.#tls ? this.#exchangeTcp(query, timeoutMs) : this.#shared().exchange(query, timeoutMs);
  }

  /** A health check's exchange: over a socket made for it and closed after (UDP), or a TCP connection. */
  probe(query: Buffer, tcp: boolean, timeoutMs: number): Promise<Buffer> {
    if (tcp || this.#tls) return this.#exchangeTcp(query, timeoutMs);
    const sock = new UpstreamSocket(this.address, (s) => this.#others.delete(s));
    this.#others.add(sock);
    const done = sock.exchange(query, timeoutMs);
    sock.retire();
    return done;
  }

  /** The next query gets a new socket; the current one closes once its queries settle. */
  renew(): void {
    const old = this.#socket;
    if (!old) return;
    this.#socket = null;
    if (this.#expiry) clearInterval(this.#expiry);
    this.#expiry = null;
    this.#others.add(old);
    old.retire();
  }

  /** Queries sent to this upstream over UDP and not yet answered or failed. */
  inFlight(): number {
    let n = this.#socket?.inFlight ?? 0;
    for (const s of this.#others) n += s.inFlight;
    return n;
  }

  /** Whether a shared socket is open now (tests, metrics). */
  hasSocket(): boolean {
    return this.#socket !== null;
  }

  close(): void {
    const reason = new ExchangeError('network', 'forwarder closed');
    this.#socket?.close(reason);
    for (const s of [...this.#others]) s.close(reason);
  }

  #shared(): UpstreamSocket {
    if (this.#socket) return this.#socket;
    const sock = new UpstreamSocket(this.address, (s) => this.#closed(s));
    this.#socket = sock;
    // CoreDNS `expire`: a socket idle this long is closed (and a new one, with a new source port, opened on next use).
    this.#expiry = setInterval(() => {
      if (sock.inFlight === 0 && performance.now() - sock.lastUsed > this.#expireMs) sock.close();
    }, Math.max(this.#expireMs / 2, 500));
    this.#expiry.unref();
    return sock;
  }

  #closed(s: UpstreamSocket): void {
    this.#others.delete(s);
    if (this.#socket !== s) return;
    this.#socket = null;
    if (this.#expiry) clearInterval(this.#expiry);
    this.#expiry = null;
  }

  #exchangeTcp(query: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const where = { host: this.address.host, port: this.address.port };
      // node:tls checks the certificate against servername, or against the IP address when there is none.
      const c = this.#tls ? tls.connect({ ...where, ...this.#tls }) : net.connect(where);
      const proto = this.#tls ? 'TLS' : 'TCP';
      let got = Buffer.alloc(0);
      let settled = false;
      const finish = (err: Error | null, reply?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        c.destroy();
        if (err) reject(err);
        else resolve(reply!);
      };
      const timer = setTimeout(() => finish(new ExchangeError('timeout', `no ${proto} reply from ${this.address.label} in ${timeoutMs} ms`)), timeoutMs);
      c.on('error', (err) => finish(new ExchangeError('network', `${proto} ${this.address.label}: ${err.message}`)));
      c.on('close', () => finish(new ExchangeError('network', `${proto} ${this.address.label} closed before replying`)));
      c.on(this.#tls ? 'secureConnect' : 'connect', () => {
        const frame = Buffer.allocUnsafe(2 + query.length);
        frame.writeUInt16BE(query.length, 0);
        query.copy(frame, 2);
        c.write(frame);
      });
      c.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length < 2) return;
        const len = got.readUInt16BE(0);
        if (len > MAX_TCP_REPLY) return finish(new ExchangeError('network', 'bad TCP frame'));
        if (got.length >= 2 + len) finish(null, Buffer.from(got.subarray(2, 2 + len)));
      });
    });
  }
}
