import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ClientAddress, PacketHandler } from '../answer/handler.ts';
import type { ListenAddress } from '../corefile/config.ts';
import { BatchUdpSocket, udpBatchAddon } from './udp-batch.ts';
import { UdpLocalSockets, isWildcard } from './udp-local-sockets.ts';
import { DEFAULT_TCP_LIMITS, TcpAdmission } from './tcp-admission.ts';
import type { TcpLimits } from './tcp-admission.ts';
import { serveTcpConnection } from './tcp-connection.ts';

export interface DnsServerOptions {
  handler: PacketHandler;
  listen: ListenAddress[];
  /** A TCP connection must bring a whole query within this long of going idle (tcp-connection.ts). */
  tcpIdleTimeoutMs: number;
  /** Caps on TCP connections, in all and per source address; absent: DEFAULT_TCP_LIMITS. */
  tcpLimits?: TcpLimits;
  /**
   * SO_REUSEPORT on every socket, so that worker threads can bind the same
   * addresses and the kernel spreads queries over them (workers/dns-workers.ts).
   */
  reusePort?: boolean;
  /** Called for socket errors that do not stop the server (logging). */
  onError?: (err: Error, where: string) => void;
  /**
   * 'batch': UDP through netlet's recvmmsg/sendmmsg addon (udp-batch.ts)
   * when it is built, else node:dgram; 'dgram': node:dgram always.
   */
  udp?: 'batch' | 'dgram';
}

/** What the server needs of a UDP socket, node:dgram's or the batch addon's. */
interface UdpSocket {
  address(): AddressInfo;
  close(done: () => void): void;
}

/**
 * Answers on UDP and TCP (RFC 1035 §4.2, RFC 7766): one socket pair per
 * listen address. UDP replies that do not fit the client's size come back
 * truncated with TC set, and the client retries over TCP, where every
 * message carries a 2-byte length and a connection may carry many queries.
 */
/** How many ports a server asked for port 0 tries before a TCP bind that keeps failing is an error. */
const PORT_ZERO_ATTEMPTS = 5;

export class DnsServer {
  readonly #opts: DnsServerOptions;
  readonly #udp: UdpSocket[] = [];
  readonly #tcp: net.Server[] = [];
  readonly #conns = new Set<net.Socket>();
  readonly #perAddress: UdpLocalSockets[] = [];
  readonly #admission: TcpAdmission;

  constructor(opts: DnsServerOptions) {
    this.#opts = opts;
    this.#admission = new TcpAdmission(opts.tcpLimits ?? DEFAULT_TCP_LIMITS);
  }

  async start(): Promise<void> {
    try {
      for (const addr of this.#opts.listen) {
        const batch = this.#opts.udp === 'dgram' ? null : udpBatchAddon();
        const port = await this.#bindPair(addr, batch !== null);
        // The batch sockets reply from the query's address by IP_PKTINFO; dgram needs a socket per address.
        if (isWildcard(addr.host) && !batch) await this.#bindEachLocalAddress(addr.host, port);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * A UDP and a TCP socket on one port. Asked for port 0 (tests), UDP picks
   * the port and TCP takes the same one, which another program may hold on
   * TCP only: then both are given up and another port is tried.
   */
  async #bindPair(addr: ListenAddress, batch: boolean): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const udp = batch ? this.#bindBatchUdp(addr) : await this.#bindUdp(addr);
      const port = udp.address().port;
      try {
        await this.#bindTcp({ host: addr.host, port });
        return port;
      } catch (err) {
        if (addr.port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === PORT_ZERO_ATTEMPTS) throw err;
        this.#udp.splice(this.#udp.indexOf(udp), 1);
        await new Promise<void>((r) => udp.close(r));
      }
    }
  }

  /** The bound UDP (= TCP) addresses, port 0 resolved. */
  addresses(): AddressInfo[] {
    return this.#udp.map((s) => s.address());
  }

  async stop(): Promise<void> {
    await Promise.all(this.#perAddress.map((p) => p.stop()));
    this.#perAddress.length = 0;
    for (const c of this.#conns) c.destroy();
    this.#conns.clear();
    await Promise.all([
      ...this.#udp.map((s) => new Promise<void>((r) => s.close(r))),
      ...this.#tcp.map((s) => new Promise<void>((r) => s.close(() => r()))),
    ]);
    this.#udp.length = 0;
    this.#tcp.length = 0;
  }

  #error(err: Error, where: string): void {
    this.#opts.onError?.(err, where);
  }

  /** UDP replies must leave from the address the query went to: see udp-local-sockets.ts. */
  async #bindEachLocalAddress(host: string, port: number): Promise<void> {
    const sockets = new UdpLocalSockets({
      family: net.isIPv6(host) ? 'IPv6' : 'IPv4',
      port,
      reusePort: this.#opts.reusePort ?? false,
      onSocket: (sock) => sock.on('message', (msg, rinfo) => this.#onDatagram(sock, msg, rinfo)),
      onError: (err) => this.#error(err, 'udp per-address'),
    });
    this.#perAddress.push(sockets);
    await sockets.start();
  }

  #bindBatchUdp(addr: ListenAddress): UdpSocket {
    const ipv6 = net.isIPv6(addr.host) || addr.host === '';
    const host = addr.host === '' ? '::' : addr.host;
    const sock = new BatchUdpSocket(udpBatchAddon()!, {
      host,
      port: addr.port,
      ipv6,
      reusePort: this.#opts.reusePort ?? false,
      onDatagram: (packet, peer) => this.#opts.handler.handle(packet, 'udp', peer),
      onError: (err) => this.#error(err, 'handler'),
    });
    const udp: UdpSocket = {
      address: () => sock.address() as AddressInfo,
      close: (done) => {
        sock.close();
        // The addon closes the fd in libuv's close callback, at the end of this loop turn: done once it is free to bind again.
        setImmediate(() => setImmediate(done));
      },
    };
    this.#udp.push(udp);
    return udp;
  }

  #bindUdp(addr: ListenAddress): Promise<dgram.Socket> {
    const type = net.isIPv6(addr.host) ? 'udp6' : 'udp4';
    // reuseAddr lets the per-address sockets share the wildcard's port.
    // The lookup answers at once (replies go to the sender's IP literal) and the
    // 4 MiB receive buffer holds a burst (docs/design/dns-memory.md#socket-receive-buffers).
    const sock = dgram.createSocket({ type, reuseAddr: isWildcard(addr.host), reusePort: this.#opts.reusePort ?? false, lookup: literalLookup, recvBufferSize: 4 << 20 });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(addr.port, addr.host, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.#error(err, 'udp'));
        sock.on('message', (msg, rinfo) => this.#onDatagram(sock, msg, rinfo));
        this.#udp.push(sock);
        resolve(sock);
      });
    });
  }

  #onDatagram(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let reply: Buffer | null | Promise<Buffer | null>;
    try {
      reply = this.#opts.handler.handle(msg, 'udp', this.#opts.handler.wantsClient ? rinfoClient(rinfo) : undefined);
    } catch (err) {
      // The handler does not throw on input; if it ever does, the server keeps serving.
      this.#error(err as Error, 'handler');
      return;
    }
    // No callback: dgram would queue one tick per send for it. A failed UDP send is a lost datagram; the client retries.
    const send = (b: Buffer | null) => {
      if (b) sock.send(b, rinfo.port, rinfo.address);
    };
    if (reply instanceof Promise) reply.then(send, (err: Error) => this.#error(err, 'handler'));
    else send(reply);
  }

  #bindTcp(addr: ListenAddress): Promise<net.Server> {
    const server = net.createServer((c) => this.#onConnection(c));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: addr.port, host: addr.host, reusePort: this.#opts.reusePort ?? false }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#error(err, 'tcp'));
        this.#tcp.push(server);
        resolve(server);
      });
    });
  }

  #onConnection(c: net.Socket): void {
    const source = c.remoteAddress ?? '';
    // Past a cap the connection is closed at once, before it costs more than its descriptor.
    if (!this.#admission.admit(source)) {
      c.destroy();
      return;
    }
    this.#conns.add(c);
    c.on('close', () => {
      this.#conns.delete(c);
      this.#admission.release(source);
    });
    serveTcpConnection(c, {
      readTimeoutMs: this.#opts.tcpIdleTimeoutMs,
      answer: (msg) => {
        try {
          return this.#opts.handler.handle(msg, 'tcp', this.#opts.handler.wantsClient ? tcpClient(c) : undefined);
        } catch (err) {
          this.#error(err as Error, 'handler');
          throw err;
        }
      },
    });
  }
}

function literalLookup(address: string, family: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, net.isIPv6(address) ? 6 : 4);
}

const hostPort = (address: string | undefined, port: number | undefined) => (address?.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
const rinfoClient = (rinfo: dgram.RemoteInfo): ClientAddress => ({ address: () => hostPort(rinfo.address, rinfo.port) });
const tcpClient = (c: net.Socket): ClientAddress => ({ address: () => hostPort(c.remoteAddress, c.remotePort) });
