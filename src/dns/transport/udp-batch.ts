// UDP sockets served in batches by netlet's recvmmsg/sendmmsg addon
// (native/udp-batch.c, built by node-gyp at npm install): one call into
// JavaScript per batch of up to 64 datagrams instead of one per datagram,
// and replies leave from the address their query went to (IP_PKTINFO)
// (docs/design/dns-memory.md#socket-receive-buffers).
// Found through findAddon, so the same code works from src/dns/ and from
// the bundled dist/netlet.mjs and dist/dns-worker.mjs.
import { findAddon, withErrnoName } from '../../base/native-addon.ts';

type Handle = { readonly __udpBatch: unique symbol };

interface UdpBatchAddon {
  open(host: string, port: number, ipv6: boolean, reusePort: boolean, inBuf: Buffer, lens: Buffer, recs: Buffer, onBatch: (n: number) => void): Handle;
  localPort(h: Handle): number;
  sendBatch(h: Handle, replies: Array<Buffer | null>, n: number): number;
  sendTo(h: Handle, reply: Buffer, rec: Buffer): boolean;
  close(h: Handle): void;
  constants: { BATCH: number; SLOT: number; REC: number };
}

const ADDON = 'netlet_udp_batch';
let addon: UdpBatchAddon | null | undefined;

/** The addon, or null when it is not built (the server then uses node:dgram). */
export function udpBatchAddon(): UdpBatchAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.NETLET_DNS_UDP === 'dgram') return addon;
  addon = findAddon<UdpBatchAddon>(ADDON) ?? null;
  return addon;
}

/** Where a reply goes, kept for replies that come later than the batch (forwarded queries). */
export type Peer = Buffer;

/**
 * Answers one datagram: the reply now, a promise of it, or null for none.
 * `packet` is a view into the batch buffer, valid only during the call:
 * whoever keeps it past the call (the forwarder) must copy it.
 */
export type DatagramHandler = (packet: Buffer, peer: BatchPeer) => Buffer | null | Promise<Buffer | null>;

/** The sender of a datagram of the current batch; `address()` formats it (only the query log needs that). */
export interface BatchPeer {
  address(): string;
}

/** "127.0.0.1:53977" / "[::1]:53977" from a slot's sockaddr (Linux layout: family in host order, port big-endian). */
export function formatPeer(rec: Buffer, offset: number): string {
  const family = rec.readUInt16LE(offset);
  const port = rec.readUInt16BE(offset + 2);
  if (family === 2) return `${rec[offset + 4]}.${rec[offset + 5]}.${rec[offset + 6]}.${rec[offset + 7]}:${port}`;
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(rec.readUInt16BE(offset + 8 + i * 2).toString(16));
  let text = groups.join(':');
  // ::ffff:a.b.c.d for an IPv4 client of a dual-stack socket.
  if (text.startsWith('0:0:0:0:0:ffff:')) text = `::ffff:${rec[offset + 20]}.${rec[offset + 21]}.${rec[offset + 22]}.${rec[offset + 23]}`;
  else text = text.replace(/(^|:)0(:0)+(:|$)/, '::');
  return `[${text}]:${port}`;
}

/**
 * One bound UDP socket read in batches. Replies computed during the batch
 * go out in one sendmmsg; promised ones are sent one by one when they
 * settle, to the peer copied out of the batch.
 */
export class BatchUdpSocket {
  readonly #addon: UdpBatchAddon;
  readonly #handle: Handle;
  readonly #in: Buffer;
  readonly #lens: Int32Array;
  readonly #recs: Buffer;
  readonly #replies: Array<Buffer | null>;
  readonly #onDatagram: DatagramHandler;
  readonly #onError: (err: Error) => void;
  readonly #host: string;
  readonly #ipv6: boolean;
  #slot = 0;
  readonly #peer: BatchPeer;
  #closed = false;

  constructor(
    a: UdpBatchAddon,
    opts: { host: string; port: number; ipv6: boolean; reusePort: boolean; onDatagram: DatagramHandler; onError: (err: Error) => void },
  ) {
    const { BATCH, SLOT, REC } = a.constants;
    this.#addon = a;
    this.#in = Buffer.alloc(BATCH * SLOT);
    const lens = Buffer.alloc(BATCH * 4);
    this.#lens = new Int32Array(lens.buffer, lens.byteOffset, BATCH);
    this.#recs = Buffer.alloc(BATCH * REC);
    this.#replies = new Array<Buffer | null>(BATCH).fill(null);
    this.#onDatagram = opts.onDatagram;
    this.#onError = opts.onError;
    this.#host = opts.host;
    this.#ipv6 = opts.ipv6;
    const self = this;
    this.#peer = {
      address: () => formatPeer(self.#recs, self.#slot * REC),
    };
    try {
      this.#handle = a.open(opts.host, opts.port, opts.ipv6, opts.reusePort, this.#in, lens, this.#recs, (n) => this.#onBatch(n));
    } catch (err) {
      throw withErrnoName(err as NodeJS.ErrnoException);
    }
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.#host, family: this.#ipv6 ? 'IPv6' : 'IPv4', port: this.#addon.localPort(this.#handle) };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#addon.close(this.#handle);
  }

  #onBatch(n: number): void {
    const { SLOT, REC } = this.#addon.constants;
    const replies = this.#replies;
    for (let i = 0; i < n; i++) {
      replies[i] = null;
      const len = this.#lens[i];
      if (len < 12) continue; // truncated (larger than a slot) or shorter than a header: no reply
      this.#slot = i;
      let reply: Buffer | null | Promise<Buffer | null>;
      try {
        reply = this.#onDatagram(this.#in.subarray(i * SLOT, i * SLOT + len), this.#peer);
      } catch (err) {
        this.#onError(err as Error);
        continue;
      }
      if (reply instanceof Promise) {
        const rec = Buffer.from(this.#recs.subarray(i * REC, (i + 1) * REC));
        reply.then(
          (b) => {
            if (b && !this.#closed) this.#addon.sendTo(this.#handle, b, rec);
          },
          (err: Error) => this.#onError(err),
        );
      } else replies[i] = reply;
    }
    if (!this.#closed) this.#addon.sendBatch(this.#handle, replies, n);
  }
}

