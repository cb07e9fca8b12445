import dgram from 'node:dgram';
import net from 'node:net';
import type { UpstreamAddress } from './upstream-list.ts';

/** Why an exchange with one upstream produced no reply. */
export class ExchangeError extends Error {
  readonly reason: 'timeout' | 'network';
  constructor(reason: 'timeout' | 'network', message: string) {
    super(message);
    this.reason = reason;
  }
}

interface Pending {
  clientId: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const MAX_TCP_REPLY = 65535;

/**
 * One upstream server: a UDP socket shared by all queries to it (each
 * query gets a fresh random ID on the wire, restored to the client's on
 * the way back, so concurrent clients that chose the same ID cannot get
 * each other's answers), and a TCP connection per query for the rare
 * truncated reply or `force_tcp`.
 */
export class Upstream {
  readonly address: UpstreamAddress;
  /** Failures in a row (exchanges and health checks); a success resets it. */
  fails = 0;
  readonly #expireMs: number;
  #udp: dgram.Socket | null = null;
  /** Settles when the UDP socket is connected to the upstream (sends wait for it). */
  #connecting: Promise<void> | null = null;
  #connected = false;
  #lastUsed = 0;
  #expiry: NodeJS.Timeout | null = null;
  readonly #pending = new Map<number, Pending>();

  constructor(address: UpstreamAddress, opts: { expireMs: number }) {
    this.address = address;
    this.#expireMs = opts.expireMs;
  }

  /** Down once it failed more than `maxFails` times in a row (0: never). */
  isDown(maxFails: number): boolean {
    return maxFails > 0 && this.fails > maxFails;
  }

  exchange(query: Buffer, tcp: boolean, timeoutMs: number): Promise<Buffer> {
    return tcp ? this.#exchangeTcp(query, timeoutMs) : this.#exchangeUdp(query, timeoutMs);
  }

  close(): void {
    if (this.#expiry) clearInterval(this.#expiry);
    this.#expiry = null;
    this.#udp?.close();
    this.#udp = null;
    this.#connecting = null;
    this.#connected = false;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ExchangeError('network', 'forwarder closed'));
    }
    this.#pending.clear();
  }

  #socket(): dgram.Socket {
    if (this.#udp) return this.#udp;
    // 4 MiB: room for a burst of replies, or they are lost while the event loop
    // is busy (docs/design/dns-memory.md#socket-receive-buffers).
    const sock = dgram.createSocket({ type: net.isIPv6(this.address.host.split('%')[0]) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    sock.on('message', (msg, rinfo) => this.#onReply(msg, rinfo));
    sock.on('error', () => {
      // ICMP port unreachable and the like: the pending queries time out and count as failures.
    });
    sock.unref();
    this.#udp = sock;
    // Connected, as CoreDNS's sockets are: a send skips Node's address lookup
    // (docs/design/dns-memory.md#forwarded-queries), and the kernel drops
    // datagrams from anywhere but the upstream. The first sends wait for the connect.
    this.#connecting = new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      try {
        sock.connect(this.address.port, this.address.host);
      } catch (err) {
        reject(err as Error);
      }
    });
    this.#connecting.then(
      () => {
        if (this.#udp === sock) this.#connected = true;
      },
      () => {},
    );
    // CoreDNS `expire`: a socket idle this long is closed (and a new one, with a new source port, opened on next use).
    this.#expiry = setInterval(() => {
      if (this.#pending.size === 0 && performance.now() - this.#lastUsed > this.#expireMs) this.close();
    }, Math.max(this.#expireMs, 1000));
    this.#expiry.unref();
    return sock;
  }

  #onReply(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Only the upstream's own address and port (RFC 5452 §9.1: match the reply's source to where the query went).
    if (msg.length < 12 || rinfo.port !== this.address.port || rinfo.address !== this.address.host.split('%')[0]) return;
    const p = this.#pending.get(msg.readUInt16BE(0));
    if (!p) return; // late reply to a query that timed out, or spoofed
    this.#pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    msg.writeUInt16BE(p.clientId, 0);
    p.resolve(msg);
  }

  #exchangeUdp(query: Buffer, timeoutMs: number): Promise<Buffer> {
    const sock = this.#socket();
    this.#lastUsed = performance.now();
    let wireId = (Math.random() * 0x10000) | 0;
    for (let i = 0; this.#pending.has(wireId); i++) {
      if (i > 64) return Promise.reject(new ExchangeError('network', 'too many queries in flight to one upstream'));
      wireId = (Math.random() * 0x10000) | 0;
    }
    const out = Buffer.from(query);
    out.writeUInt16BE(wireId, 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(wireId);
        reject(new ExchangeError('timeout', `no reply from ${this.address.label} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(wireId, { clientId: query.readUInt16BE(0), resolve, reject, timer });
      const sent = (err: Error | null) => {
        if (!err) return;
        const p = this.#pending.get(wireId);
        if (!p) return;
        this.#pending.delete(wireId);
        clearTimeout(p.timer);
        reject(new ExchangeError('network', `send to ${this.address.label}: ${err.message}`));
      };
      const send = () => {
        try {
          sock.send(out, sent);
        } catch (err) {
          sent(err as Error); // closed meanwhile
        }
      };
      if (this.#connected) send();
      else this.#connecting!.then(send, sent);
    });
  }

  #exchangeTcp(query: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const c = net.connect({ host: this.address.host, port: this.address.port });
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
      const timer = setTimeout(() => finish(new ExchangeError('timeout', `no TCP reply from ${this.address.label} in ${timeoutMs} ms`)), timeoutMs);
      c.on('error', (err) => finish(new ExchangeError('network', `TCP ${this.address.label}: ${err.message}`)));
      c.on('close', () => finish(new ExchangeError('network', `TCP ${this.address.label} closed before replying`)));
      c.on('connect', () => {
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
