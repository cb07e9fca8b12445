import dgram from 'node:dgram';
import net from 'node:net';
import { NetletError } from '../../base/errors.ts';
import type { UpstreamAddress } from './upstream-list.ts';

/** Why an exchange with one upstream produced no reply. */
export class ExchangeError extends NetletError {
  readonly reason: 'timeout' | 'network';
  constructor(reason: 'timeout' | 'network', message: string) {
    super(reason === 'timeout' ? 'ERR_DNS_UPSTREAM_TIMEOUT' : 'ERR_DNS_UPSTREAM_NETWORK', message);
    this.reason = reason;
  }
}

interface Pending {
  clientId: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** A query waiting for the connect to finish: sent or failed when it does, never left behind. */
interface Waiting {
  wireId: number;
  out: Buffer;
}

const hostOf = (a: UpstreamAddress) => a.host.split('%')[0];

/**
 * One connected UDP socket to an upstream and the queries on it. Its life
 * is one way: connecting → open → closed. It closes on a connect error, on
 * any socket error while connecting, or when its owner closes it (expiry,
 * renewal, stop); closing rejects every query still on it at once, so no
 * promise outlives the socket, and a closed socket is never used again: the
 * owner makes a new one (issue 13: a swallowed connect error once left
 * every send waiting for ever).
 *
 * Each query gets a fresh random ID on the wire, restored to the client's on
 * the way back, so concurrent clients that chose the same ID cannot get each
 * other's answers.
 */
export class UpstreamSocket {
  readonly #address: UpstreamAddress;
  readonly #sock: dgram.Socket;
  readonly #pending = new Map<number, Pending>();
  #waiting: Waiting[] | null = [];
  #closed = false;
  /** Replaced by a new socket: closes once its last query is answered or failed. */
  #retiring = false;
  readonly #onClose: (s: UpstreamSocket) => void;
  /** When a query last went out on it (performance.now()). */
  lastUsed = performance.now();

  constructor(address: UpstreamAddress, onClose: (s: UpstreamSocket) => void) {
    this.#address = address;
    this.#onClose = onClose;
    // 4 MiB: room for a burst of replies, or they are lost while the event loop
    // is busy (docs/design/dns-memory.md#socket-receive-buffers).
    const sock = dgram.createSocket({ type: net.isIPv6(hostOf(address)) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    this.#sock = sock;
    sock.on('message', (msg, rinfo) => this.#onReply(msg, rinfo));
    sock.on('error', (err) => {
      // While connecting (no route, bad address): this socket is dead; the owner makes a new one next time.
      // Once open (ICMP port unreachable and the like): the pending queries time out and count as failures.
      if (this.#waiting) this.close(new ExchangeError('network', `connect to ${address.label}: ${err.message}`));
    });
    sock.unref();
    // Connected, as CoreDNS's sockets are: a send skips Node's address lookup
    // (docs/design/dns-memory.md#forwarded-queries), and the kernel drops
    // datagrams from anywhere but the upstream.
    sock.once('connect', () => this.#onConnected());
    try {
      sock.connect(address.port, address.host);
    } catch (err) {
      queueMicrotask(() => this.close(new ExchangeError('network', `connect to ${address.label}: ${(err as Error).message}`)));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queries sent (or about to be) and not yet answered or failed. */
  get inFlight(): number {
    return this.#pending.size;
  }

  exchange(query: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new ExchangeError('network', `socket to ${this.#address.label} closed`));
    this.lastUsed = performance.now();
    let wireId = (Math.random() * 0x10000) | 0;
    for (let i = 0; this.#pending.has(wireId); i++) {
      if (i > 64) return Promise.reject(new ExchangeError('network', 'too many queries in flight to one upstream'));
      wireId = (Math.random() * 0x10000) | 0;
    }
    const out = Buffer.from(query);
    out.writeUInt16BE(wireId, 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(wireId);
        reject(new ExchangeError('timeout', `no reply from ${this.#address.label} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(wireId, { clientId: query.readUInt16BE(0), resolve, reject, timer });
      if (this.#waiting) this.#waiting.push({ wireId, out });
      else this.#send(wireId, out);
    });
  }

  /** Closes now if idle, else once the queries on it are answered or failed. */
  retire(): void {
    this.#retiring = true;
    if (this.#pending.size === 0) this.close();
  }

  /** Rejects every query on it with `reason` and closes the socket; idempotent. */
  close(reason: Error = new ExchangeError('network', `socket to ${this.#address.label} closed`)): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting = null;
    try {
      this.#sock.close();
    } catch {
      // already closed by dgram after a failed connect
    }
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.#pending.clear();
    this.#onClose(this);
  }

  #forget(wireId: number): void {
    this.#pending.delete(wireId);
    if (this.#retiring && this.#pending.size === 0) queueMicrotask(() => this.close());
  }

  #onConnected(): void {
    const waiting = this.#waiting;
    if (this.#closed || !waiting) return;
    this.#waiting = null;
    for (const w of waiting) this.#send(w.wireId, w.out);
  }

  #send(wireId: number, out: Buffer): void {
    const failed = (err: Error | null) => {
      if (!err) return;
      const p = this.#pending.get(wireId);
      if (!p) return;
      this.#forget(wireId);
      clearTimeout(p.timer);
      p.reject(new ExchangeError('network', `send to ${this.#address.label}: ${err.message}`));
    };
    try {
      this.#sock.send(out, failed);
    } catch (err) {
      failed(err as Error);
    }
  }

  #onReply(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Only the upstream's own address and port (RFC 5452 §9.1: match the reply's source to where the query went).
    if (msg.length < 12 || rinfo.port !== this.#address.port || rinfo.address !== hostOf(this.#address)) return;
    const id = msg.readUInt16BE(0);
    const p = this.#pending.get(id);
    if (!p) return; // late reply to a query that timed out, or spoofed
    this.#forget(id);
    clearTimeout(p.timer);
    msg.writeUInt16BE(p.clientId, 0);
    p.resolve(msg);
  }
}
