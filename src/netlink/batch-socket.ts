// A raw netlink socket that batches (see BatchSocket), for the protocols
// whose codecs netlet writes itself: generic netlink (IPVS), ctnetlink and rtnetlink
// messages the `netlink` package would send one request at a time.

import type { RawNetlinkSocket } from 'netlink';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { NLM_F_ACK, NLMSG_DONE, NLMSG_ERROR, errorCode, splitMessages } from './ctnetlink-codec.ts';
import { inNetnsSync } from './socket.ts';
import { NetletError } from '../base/errors.ts';

const { RawNetlinkSocket: RawSocket } = createRequire(import.meta.url)('netlink/dist/raw.js') as Pick<typeof import('netlink'), 'RawNetlinkSocket'>;

export const errnoName = (errno: number): string => Object.entries(constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;

/** Where struct nlmsghdr keeps nlmsg_flags. */
const NLMSG_FLAGS_OFFSET = 6;

interface Pending {
  /** true when finished. */
  onMessage(type: number, payload: Buffer): boolean;
}

/** A socket of `protocol` (NETLINK_ROUTE 0, NETLINK_GENERIC 16), in `netnsPath`'s namespace when given. */
export function openBatchSocket(protocol: number, what: string, netnsPath?: string): BatchSocket {
  const sock = netnsPath ? inNetnsSync(netnsPath, () => new RawSocket(protocol)) : new RawSocket(protocol);
  return new BatchSocket(sock, what);
}

/**
 * A raw netlink socket that sends requests and batches: many acked
 * messages in one datagram (netlink processes each message of a datagram in
 * order and ACKs each), answered by sequence number. The IPVS table,
 * kube-ipvs0's addresses and the conntrack cleanup use it; no process or
 * round trip per change.
 */
export class BatchSocket {
  readonly #socket: RawNetlinkSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #what: string;
  #seq = 1;
  #closed = false;
  roundTrips = 0;

  /** `what` names the socket in errors ("IPVS", "rtnetlink"). */
  constructor(socket: RawNetlinkSocket, what: string) {
    this.#socket = socket;
    this.#what = what;
    this.#socket.unref();
    this.#socket.on('message', (buf) => this.#receive(buf));
    this.#socket.on('error', (err) => this.#failAll(err));
  }

  /** One request; `onData` sees each answer's payload until DONE (a dump) or the ACK / single answer. */
  request(encode: (seq: number) => Buffer, onData: (payload: Buffer) => void, dump = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const seq = this.nextSeq();
      this.#pending.set(seq, {
        onMessage: (type, payload) => {
          if (type === NLMSG_DONE) {
            resolve();
            return true;
          }
          if (type === NLMSG_ERROR) {
            const errno = errorCode(payload);
            if (errno === 0) resolve();
            else reject(new NetletError('ERR_NETLINK', `${this.#what} request failed: ${errnoName(errno)}`, { cause: { errno } }));
            return true;
          }
          onData(payload);
          if (dump) return false;
          resolve();
          return true;
        },
      });
      this.roundTrips++;
      this.#send([seq], encode(seq), reject);
    });
  }

  /**
   * Many acked messages in one datagram; resolves with each one's errno (0: done).
   * `ackLastOnly`: only the last message asks for an ACK; the others are
   * answered only when they fail (netlink_rcv_skb acks a message that fails
   * whatever its flags). The kernel handles the datagram in order, so every
   * failure is queued before the last ACK: a full BGP table then costs one
   * ACK read per datagram instead of one per route.
   */
  batch(encoders: ReadonlyArray<(seq: number) => Buffer>, opts: { ackLastOnly?: boolean } = {}): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const results = new Array<number>(encoders.length).fill(0);
      let left = opts.ackLastOnly ? 1 : encoders.length;
      if (encoders.length === 0) return resolve(results);
      const seqs: number[] = [];
      const msgs: Buffer[] = [];
      const last = encoders.length - 1;
      encoders.forEach((encode, i) => {
        const seq = this.nextSeq();
        seqs.push(seq);
        const msg = encode(seq);
        if (opts.ackLastOnly && i !== last) msg.writeUInt16LE(msg.readUInt16LE(NLMSG_FLAGS_OFFSET) & ~NLM_F_ACK, NLMSG_FLAGS_OFFSET);
        msgs.push(msg);
        this.#pending.set(seq, {
          onMessage: (type, payload) => {
            if (type !== NLMSG_ERROR) return false;
            results[i] = errorCode(payload);
            if (opts.ackLastOnly && i !== last) return true;
            if (--left === 0) {
              // The ACK-less ones that did not fail got no answer: forget them.
              if (opts.ackLastOnly) for (const s of seqs) this.#pending.delete(s);
              resolve(results);
            }
            return true;
          },
        });
      });
      this.roundTrips++;
      this.#send(seqs, Buffer.concat(msgs), reject);
    });
  }

  /**
   * A framed batch (nfnetlink's BATCH_BEGIN … BATCH_END: one transaction,
   * all of it or nothing). Every message but the frame asks for an ACK; the
   * batch is done when all are 0. The first error rejects it (the kernel
   * aborted the whole transaction), naming the message by its index; a
   * kernel that refuses the batch as a whole (a failed commit) answers on
   * the head's sequence number.
   */
  framedBatch(head: (seq: number) => Buffer, encoders: ReadonlyArray<(seq: number) => Buffer>, tail: (seq: number) => Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const seqs: number[] = [];
      const msgs: Buffer[] = [];
      let left = encoders.length;
      const forget = () => {
        for (const s of seqs) this.#pending.delete(s);
      };
      const add = (encode: (seq: number) => Buffer, index: number) => {
        const seq = this.nextSeq();
        seqs.push(seq);
        msgs.push(encode(seq));
        this.#pending.set(seq, {
          onMessage: (type, payload) => {
            if (type !== NLMSG_ERROR) return false;
            const errno = errorCode(payload);
            if (errno !== 0) {
              forget();
              const which = index < 0 ? 'the batch' : `message ${index + 1} of ${encoders.length}`;
              reject(new NetletError('ERR_NETLINK', `${this.#what} batch refused (${which}): ${errnoName(errno)}`, { cause: { errno, index } }));
            } else if (index >= 0 && --left === 0) {
              forget();
              resolve();
            }
            return true;
          },
        });
      };
      add(head, -1);
      encoders.forEach(add);
      add(tail, -1);
      if (left === 0) {
        forget();
        return resolve();
      }
      this.roundTrips++;
      this.#send(seqs, Buffer.concat(msgs), reject);
    });
  }

  nextSeq(): number {
    this.#seq = (this.#seq % 0x7fffffff) + 1;
    return this.#seq;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new NetletError('ERR_NETLINK', `${this.#what} socket closed`));
    this.#socket.close();
  }

  #send(seqs: number[], msg: Buffer, reject: (err: Error) => void): void {
    if (this.#closed) {
      for (const seq of seqs) this.#pending.delete(seq);
      reject(new NetletError('ERR_NETLINK', `${this.#what} socket closed`));
      return;
    }
    // Keep the process alive only while a request is in flight.
    this.#socket.ref();
    this.#socket.send(msg, {}, (err) => {
      if (!err) return;
      for (const seq of seqs) this.#pending.delete(seq);
      this.#maybeUnref();
      reject(new NetletError('ERR_NETLINK', `${this.#what}: sendmsg failed: ${err.message}`, { cause: err }));
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

  #failAll(_err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    const eio = Buffer.alloc(4);
    eio.writeInt32LE(-constants.errno.EIO, 0);
    for (const p of pending) p.onMessage(NLMSG_ERROR, eio);
  }
}
