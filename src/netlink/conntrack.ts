// The real conntrack table: ctnetlink over a NETLINK_NETFILTER socket of the
// `netlink` package. Deleting by filter works as kube-proxy's library does
// (vishvananda/netlink ConntrackDeleteFilters): dump the family's entries,
// match in user space, delete each match by its original tuple. No process
// is spawned per entry, and nothing outside the filters is touched.

import type { RawNetlinkSocket } from 'netlink';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import {
  IPPROTO,
  NETLINK_NETFILTER,
  NLMSG_DONE,
  NLMSG_ERROR,
  ctMsgType,
  IPCTNL_MSG_CT_NEW,
  decodeEntry,
  encodeDelete,
  encodeDump,
  errorCode,
  splitMessages,
} from './ctnetlink-codec.ts';
import type { ConntrackEntry } from './ctnetlink-codec.ts';
import type { Family } from '../base/family.ts';
import { NetletError } from '../base/errors.ts';

// Only the raw socket of the `netlink` package, through Node's resolver (as
// socket.ts): its index loads codecs the agent never uses, and its native
// binding must not be bundled (docs/design/agent-memory.md#loading-less-code).
const { RawNetlinkSocket: RawSocket } = createRequire(import.meta.url)('netlink/dist/raw.js') as Pick<typeof import('netlink'), 'RawNetlinkSocket'>;

/**
 * Matches conntrack entries of one L4 protocol. Every field given must match;
 * `origDst`/`origDstPort` are the original direction's destination (the
 * service IP and port, or the NodePort), `replySrc` the reply direction's
 * source, which after DNAT is the endpoint.
 */
export interface ConntrackFilter {
  protocol: 'udp' | 'tcp' | 'sctp';
  origDst?: string;
  origDstPort?: number;
  replySrc?: string;
}

const ENOENT = constants.errno.ENOENT;
/** Deletions in flight at once: ACKs must fit the socket's receive buffer. */
const DELETE_WINDOW = 256;

export function matches(entry: ConntrackEntry, f: ConntrackFilter): boolean {
  if (entry.orig.protoNum !== IPPROTO[f.protocol]) return false;
  if (f.origDst !== undefined && entry.orig.dst !== f.origDst) return false;
  if (f.origDstPort !== undefined && entry.orig.dstPort !== f.origDstPort) return false;
  if (f.replySrc !== undefined && entry.reply.src !== f.replySrc) return false;
  return true;
}

/**
 * One predicate for many filters: indexed by destination address (service
 * VIPs) and by destination port (NodePorts), so a dump of E entries against F
 * filters costs about E lookups rather than E×F comparisons.
 */
export function compileFilters(filters: readonly ConntrackFilter[]): (entry: ConntrackEntry) => boolean {
  const byDst = new Map<string, ConntrackFilter[]>();
  const byPort = new Map<number, ConntrackFilter[]>();
  const rest: ConntrackFilter[] = [];
  const add = <K>(m: Map<K, ConntrackFilter[]>, k: K, f: ConntrackFilter) => {
    const list = m.get(k);
    if (list) list.push(f);
    else m.set(k, [f]);
  };
  for (const f of filters) {
    if (f.origDst !== undefined) add(byDst, f.origDst, f);
    else if (f.origDstPort !== undefined) add(byPort, f.origDstPort, f);
    else rest.push(f);
  }
  const any = (list: ConntrackFilter[] | undefined, e: ConntrackEntry) => list !== undefined && list.some((f) => matches(e, f));
  return (e) => any(byDst.get(e.orig.dst), e) || any(byPort.get(e.orig.dstPort), e) || any(rest, e);
}

interface Pending {
  onMessage(type: number, payload: Buffer): boolean; // true when finished
}

/** The proxier's ConntrackTable (proxier/conntrack-table.ts), over ctnetlink. */
export class NetlinkConntrackTable {
  readonly #socket: RawNetlinkSocket;
  readonly #pending = new Map<number, Pending>();
  #seq = 1;
  /** Operations run one at a time so a dump is never interleaved with another. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #kernelFilter = true;

  constructor() {
    this.#socket = new RawSocket(NETLINK_NETFILTER);
    this.#socket.unref();
    this.#socket.on('message', (buf) => this.#receive(buf));
    this.#socket.on('error', (err) => this.#failAll(err));
  }

  deleteMatching(family: Family, filters: readonly ConntrackFilter[]): Promise<number> {
    const op = this.#queue.then(async () => {
      // One protocol (UDP in practice) lets the kernel filter the dump.
      const protocols = new Set(filters.map((f) => f.protocol));
      const entries = await this.list(family, protocols.size === 1 ? IPPROTO[filters[0].protocol] : undefined);
      const match = compileFilters(filters);
      const doomed = entries.filter(match);
      return this.#deleteAll(family, doomed);
    });
    this.#queue = op.catch(() => {});
    return op;
  }

  /** Every entry of one family (a ctnetlink dump), of one L4 protocol when given. */
  async list(family: Family, protoNum?: number): Promise<ConntrackEntry[]> {
    if (protoNum !== undefined && this.#kernelFilter) {
      try {
        return await this.#dump(family, protoNum);
      } catch (err) {
        // A kernel that rejects CTA_FILTER: dump everything and match in user space from now on.
        this.#kernelFilter = false;
        void err;
      }
    }
    return this.#dump(family, undefined);
  }

  #dump(family: Family, protoNum: number | undefined): Promise<ConntrackEntry[]> {
    return new Promise((resolve, reject) => {
      const entries: ConntrackEntry[] = [];
      const seq = this.#nextSeq();
      this.#pending.set(seq, {
        onMessage: (type, payload) => {
          if (type === NLMSG_DONE) {
            resolve(entries);
            return true;
          }
          if (type === NLMSG_ERROR) {
            reject(this.#errnoError('dump', errorCode(payload)));
            return true;
          }
          if (type === ctMsgType(IPCTNL_MSG_CT_NEW)) {
            const e = decodeEntry(payload);
            if (e) entries.push(e);
          }
          return false;
        },
      });
      this.#send([seq], encodeDump(family, seq, protoNum), reject);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new NetletError('ERR_CONNTRACK', 'conntrack socket closed'));
    this.#socket.close();
  }

  /**
   * Deletes in windows; each window's requests go to the kernel in one
   * datagram (netlink processes every message of a datagram and ACKs each),
   * so a large cleanup costs a few syscalls rather than one per entry.
   */
  async #deleteAll(family: Family, entries: ConntrackEntry[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < entries.length; i += DELETE_WINDOW) {
      const seqs: number[] = [];
      const msgs: Buffer[] = [];
      const rejects: ((err: Error) => void)[] = [];
      const results = entries.slice(i, i + DELETE_WINDOW).map(
        (entry) =>
          new Promise<boolean>((resolve, reject) => {
            const seq = this.#nextSeq();
            seqs.push(seq);
            rejects.push(reject);
            msgs.push(encodeDelete(family, seq, entry));
            this.#pending.set(seq, {
              onMessage: (type, payload) => {
                if (type !== NLMSG_ERROR) return false;
                const errno = errorCode(payload);
                if (errno === 0) resolve(true);
                // Expired or deleted by someone else between the dump and now.
                else if (errno === ENOENT) resolve(false);
                else reject(this.#errnoError('delete', errno));
                return true;
              },
            });
          }),
      );
      this.#send(seqs, Buffer.concat(msgs), (err) => rejects.forEach((r) => r(err)));
      for (const ok of await Promise.all(results)) if (ok) deleted++;
    }
    return deleted;
  }

  #send(seqs: number[], msg: Buffer, reject: (err: Error) => void): void {
    if (this.#closed) {
      for (const seq of seqs) this.#pending.delete(seq);
      reject(new NetletError('ERR_CONNTRACK', 'conntrack socket closed'));
      return;
    }
    // Keep the process alive only while a request is in flight.
    this.#socket.ref();
    this.#socket.send(msg, {}, (err) => {
      if (!err) return;
      for (const seq of seqs) this.#pending.delete(seq);
      this.#maybeUnref();
      reject(new NetletError('ERR_CONNTRACK', `conntrack: sendmsg failed: ${err.message}`, { cause: err }));
    });
  }

  #receive(buf: Buffer): void {
    for (const m of splitMessages(buf)) {
      const p = this.#pending.get(m.seq);
      if (!p) continue;
      if (p.onMessage(m.type, m.payload)) this.#pending.delete(m.seq);
    }
    this.#maybeUnref();
  }

  #maybeUnref(): void {
    if (this.#pending.size === 0 && !this.#closed) this.#socket.unref();
  }

  #failAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.onMessage(NLMSG_ERROR, errnoPayload(err));
  }

  #nextSeq(): number {
    this.#seq = (this.#seq % 0x7fffffff) + 1;
    return this.#seq;
  }

  #errnoError(what: string, errno: number): NetletError {
    const name = Object.entries(constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
    return new NetletError('ERR_CONNTRACK', `conntrack ${what} failed: ${name}`);
  }
}

/** An NLMSG_ERROR payload carrying EIO, to fail pending requests uniformly. */
function errnoPayload(_err: Error): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(-constants.errno.EIO, 0);
  return b;
}
