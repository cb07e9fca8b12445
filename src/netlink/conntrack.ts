// The real conntrack table: ctnetlink over a NETLINK_NETFILTER batch socket
// (batch-socket.ts). Deleting by filter works as kube-proxy's library does
// (vishvananda/netlink ConntrackDeleteFilters): dump the family's entries,
// match in user space, delete each match by its original tuple. No process
// is spawned per entry, and nothing outside the filters is touched.

import { constants } from 'node:os';
import { BatchSocket, errnoName, openBatchSocket } from './batch-socket.ts';
import { IPPROTO, NETLINK_NETFILTER, decodeEntry, encodeDelete, encodeDump } from './ctnetlink-codec.ts';
import type { ConntrackEntry } from './ctnetlink-codec.ts';
import type { Family } from '../base/family.ts';
import { NetletError } from '../base/errors.ts';


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

/** The proxier's ConntrackTable (proxier/conntrack-table.ts), over ctnetlink. */
export class NetlinkConntrackTable {
  readonly #socket: BatchSocket = openBatchSocket(NETLINK_NETFILTER, 'conntrack');
  /** Operations run one at a time so a dump is never interleaved with another. */
  #queue: Promise<unknown> = Promise.resolve();
  #kernelFilter = true;

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
      } catch {
        // A kernel that rejects CTA_FILTER: dump everything and match in user space from now on.
        this.#kernelFilter = false;
      }
    }
    return this.#dump(family, undefined);
  }

  async #dump(family: Family, protoNum: number | undefined): Promise<ConntrackEntry[]> {
    const entries: ConntrackEntry[] = [];
    await this.#socket.request((seq) => encodeDump(family, seq, protoNum), (payload) => {
      const e = decodeEntry(payload);
      if (e) entries.push(e);
    }, true);
    return entries;
  }

  close(): void {
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
      const errnos = await this.#socket.batch(entries.slice(i, i + DELETE_WINDOW).map((entry) => (seq: number) => encodeDelete(family, seq, entry)));
      for (const errno of errnos) {
        if (errno === 0) deleted++;
        // ENOENT: expired or deleted by someone else between the dump and now.
        else if (errno !== ENOENT) throw new NetletError('ERR_CONNTRACK', `conntrack delete failed: ${errnoName(errno)}`);
      }
    }
    return deleted;
  }
}
