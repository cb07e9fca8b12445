import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';

/**
 * One UDP socket per local address, beside a wildcard (0.0.0.0 / ::) socket.
 *
 * Why: a UDP socket bound to the wildcard sends its replies from whatever
 * source address the route back to the client picks, not from the address
 * the query was sent to. On a node with several addresses (a pod bridge
 * gateway, the node IP, a service IP on kube-ipvs0) a client asking
 * 192.0.2.2 gets its answer from 10.244.2.1 and drops it, and conntrack
 * cannot reverse the DNAT of a query that reached us through the kube-dns
 * ClusterIP. C servers fix this with IP_PKTINFO (CoreDNS via miekg/dns,
 * Unbound's interface-automatic); Node's dgram does not expose it, so we do
 * what dnsmasq's bind-dynamic does: a socket per address, kept in step with
 * the addresses. The kernel delivers each datagram to the most specific
 * bound socket, so the wildcard socket only sees addresses added since the
 * last rescan.
 */
export class UdpLocalSockets {
  readonly #family: 'IPv4' | 'IPv6';
  readonly #port: number;
  readonly #reusePort: boolean;
  readonly #onSocket: (sock: dgram.Socket) => void;
  readonly #onError: (err: Error) => void;
  readonly #sockets = new Map<string, dgram.Socket>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: {
    family: 'IPv4' | 'IPv6';
    port: number;
    reusePort: boolean;
    /** Wires a newly bound socket's 'message' handler. */
    onSocket: (sock: dgram.Socket) => void;
    onError: (err: Error) => void;
  }) {
    this.#family = opts.family;
    this.#port = opts.port;
    this.#reusePort = opts.reusePort;
    this.#onSocket = opts.onSocket;
    this.#onError = opts.onError;
  }

  /** Binds the current addresses, then rescans every `rescanMs`. */
  async start(rescanMs = 2000): Promise<void> {
    await this.rescan();
    this.#timer = setInterval(() => void this.rescan(), rescanMs);
    this.#timer.unref();
  }

  /** Local addresses of our family that a socket can bind (link-local IPv6 needs a scope: skipped). */
  #localAddresses(): Set<string> {
    const out = new Set<string>();
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) {
        if (a.family !== this.#family) continue;
        if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:')) continue;
        out.add(a.address);
      }
    }
    return out;
  }

  async rescan(): Promise<void> {
    const want = this.#localAddresses();
    for (const [addr, sock] of this.#sockets) {
      if (!want.has(addr)) {
        this.#sockets.delete(addr);
        sock.close();
      }
    }
    for (const addr of want) {
      if (this.#sockets.has(addr)) continue;
      try {
        this.#sockets.set(addr, await this.#bind(addr));
      } catch (err) {
        // e.g. an IPv6 address still in duplicate address detection: the next rescan tries again.
        this.#onError(err as Error);
      }
    }
  }

  #bind(addr: string): Promise<dgram.Socket> {
    const sock = dgram.createSocket({ type: this.#family === 'IPv6' ? 'udp6' : 'udp4', reuseAddr: true, reusePort: this.#reusePort });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.#port, addr, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.#onError(err));
        this.#onSocket(sock);
        resolve(sock);
      });
    });
  }

  addresses(): string[] {
    return [...this.#sockets.keys()];
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([...this.#sockets.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.#sockets.clear();
  }
}

export const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '';
