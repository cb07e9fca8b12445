// The byte pipe a session runs over: TCP in production (node:net), a fake
// in the state machine's unit tests. Outgoing connections start pending and
// report `open`; accepted ones are open from the start.

import net from 'node:net';
import { md5Socket } from './tcp-md5.ts';

export interface ConnectionHandlers {
  open(): void;
  data(chunk: Buffer): void;
  /** The connection is gone (refused, reset, closed by either side); called once. */
  closed(reason: string): void;
}

export interface Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** This side's address once connected: the next hop this speaker announces on the session. */
  localAddress(): string | undefined;
  /** Attaches the handlers; an accepted connection never calls `open`. */
  attach(h: ConnectionHandlers): void;
  write(bytes: Buffer): void;
  /** Flushes what was written (a NOTIFICATION), then closes. */
  end(): void;
}

export interface DialTarget {
  host: string;
  port: number;
  localAddress?: string;
  /** TCP MD5 key (RFC 2385) the connection is signed with. */
  md5Key?: string;
}

export type Dialer = (target: DialTarget) => Connection;

export class TcpConnection implements Connection {
  readonly #socket: net.Socket;
  #handlers?: ConnectionHandlers;
  #closed = false;
  #lastError = '';
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(socket: net.Socket, target?: DialTarget) {
    this.#socket = socket;
    this.remoteAddress = target?.host ?? normalize(socket.remoteAddress ?? '');
    this.remotePort = target?.port ?? socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.on('connect', () => this.#handlers?.open());
    socket.on('data', (chunk) => this.#handlers?.data(chunk));
    socket.on('error', (err) => (this.#lastError = err.message));
    socket.on('close', () => this.#finish(this.#lastError || 'connection closed by the peer'));
  }

  localAddress(): string | undefined {
    return this.#socket.localAddress ? normalize(this.#socket.localAddress) : undefined;
  }

  attach(h: ConnectionHandlers): void {
    this.#handlers = h;
  }

  write(bytes: Buffer): void {
    if (!this.#closed && this.#socket.writable) this.#socket.write(bytes);
  }

  end(): void {
    if (this.#closed) return;
    this.#socket.end();
    // A peer that never reads must not keep the socket: destroy after a grace period.
    setTimeout(() => this.#socket.destroy(), 1000).unref();
    this.#finish('closed locally');
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers?.closed(reason);
  }
}

/** An IPv4-mapped IPv6 address ("::ffff:10.0.0.1") as the plain IPv4 one the config names. */
export const normalize = (address: string): string => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);

export const tcpDialer: Dialer = (target) => {
  const options = { host: target.host, port: target.port, localAddress: target.localAddress };
  // A keyed socket is made first so its SYN is signed; node:net then binds and connects it.
  const socket = target.md5Key ? md5Socket(target.host, target.md5Key).connect(options) : net.connect(options);
  return new TcpConnection(socket, target);
};
