// The kernel's IPVS table over generic netlink (codec: ipvs-codec.ts). The
// family id is resolved by name once per socket; changes go to the kernel
// as batches, many messages per datagram (netlink processes each message of
// a datagram in order and ACKs each), so a sync of N changes costs about
// N / BATCH_WINDOW round trips rather than 2 per service as kube-proxy's
// library does (k/k#88212). A failed message does not stop the ones after
// it: apply() reports every failure with the change that caused it.

import type { RawNetlinkSocket } from 'netlink';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { NLMSG_DONE, NLMSG_ERROR, errorCode, splitMessages } from './ctnetlink-codec.ts';
import {
  IPVS_CMD,
  NETLINK_GENERIC,
  decodeDest,
  decodeFamilyId,
  decodeService,
  decodeTimeouts,
  encodeDelDest,
  encodeDelService,
  encodeDumpDests,
  encodeDumpServices,
  encodeFlush,
  encodeGetConfig,
  encodeGetFamily,
  encodeNewDest,
  encodeNewService,
  encodeSetDest,
  encodeSetService,
  encodeSetTimeouts,
  genlCommand,
} from './ipvs-codec.ts';
import type { IpvsDest, IpvsService, IpvsServiceId, IpvsTimeouts } from './ipvs-codec.ts';
import { inNetnsSync } from './socket.ts';
import { NetletError } from '../base/errors.ts';

const { RawNetlinkSocket: RawSocket } = createRequire(import.meta.url)('netlink/dist/raw.js') as Pick<typeof import('netlink'), 'RawNetlinkSocket'>;

/** One change to the IPVS table. */
export type IpvsChange =
  | { op: 'add-service' | 'update-service'; service: IpvsService }
  | { op: 'delete-service'; service: IpvsServiceId }
  | { op: 'add-dest' | 'update-dest'; service: IpvsServiceId; dest: IpvsDest }
  | { op: 'delete-dest'; service: IpvsServiceId; dest: Pick<IpvsDest, 'address' | 'port'> };

export interface IpvsFailure {
  change: IpvsChange;
  /** errno name, e.g. "EEXIST". */
  errno: string;
}

/**
 * What the IPVS backend asks of the kernel's table: the real one below,
 * a fake in the unit tests.
 */
export interface IpvsTable {
  listServices(): Promise<IpvsService[]>;
  listDests(service: IpvsServiceId): Promise<IpvsDest[]>;
  /** Applies the changes in order; resolves with the ones the kernel refused. */
  apply(changes: readonly IpvsChange[]): Promise<IpvsFailure[]>;
  getTimeouts(): Promise<IpvsTimeouts>;
  setTimeouts(t: IpvsTimeouts): Promise<void>;
  /** Removes every virtual service (`ipvsadm -C`). */
  flush(): Promise<void>;
  /** Round trips (datagrams sent and answered) since the table was opened: what the benchmark counts. */
  readonly roundTrips: number;
  close(): void;
}

export class IpvsError extends NetletError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_IPVS', message, options);
  }
}

/** Messages per datagram: their ACKs must fit the socket's receive buffer. */
export const BATCH_WINDOW = 256;

const errnoName = (errno: number): string => Object.entries(constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;

interface Pending {
  /** true when finished. */
  onMessage(type: number, payload: Buffer): boolean;
}

/** Opens the kernel's IPVS table (in `netnsPath`'s namespace when given); an IpvsError naming the modules when the kernel has none. */
export async function openIpvs(netnsPath?: string): Promise<IpvsTable> {
  const sock = netnsPath ? inNetnsSync(netnsPath, () => new RawSocket(NETLINK_GENERIC)) : new RawSocket(NETLINK_GENERIC);
  const conn = new GenlConnection(sock);
  try {
    const familyId = await conn.resolveFamily();
    return new KernelIpvsTable(conn, familyId);
  } catch (err) {
    conn.close();
    throw err;
  }
}

/** The error for a kernel without IPVS, as kube-proxy's start check says it. */
export function noIpvsError(cause?: unknown): IpvsError {
  return new IpvsError(
    'the kernel has no IPVS (generic netlink family "IPVS" not found): load the modules ip_vs, ip_vs_rr (and the scheduler you use, e.g. ip_vs_wrr, ip_vs_sh), nf_conntrack; e.g. `modprobe -a ip_vs ip_vs_rr nf_conntrack`',
    { cause },
  );
}

class GenlConnection {
  readonly #socket: RawNetlinkSocket;
  readonly #pending = new Map<number, Pending>();
  #seq = 1;
  #closed = false;
  roundTrips = 0;

  constructor(socket: RawNetlinkSocket) {
    this.#socket = socket;
    this.#socket.unref();
    this.#socket.on('message', (buf) => this.#receive(buf));
    this.#socket.on('error', (err) => this.#failAll(err));
  }

  async resolveFamily(): Promise<number> {
    let id: number | undefined;
    try {
      await this.request((seq) => encodeGetFamily(seq), (payload) => {
        id = decodeFamilyId(payload);
      });
    } catch (err) {
      throw noIpvsError(err);
    }
    if (id === undefined) throw noIpvsError();
    return id;
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
            else reject(new IpvsError(`IPVS request failed: ${errnoName(errno)}`));
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

  /** Many acked messages in one datagram; resolves with each one's errno (0: done). */
  batch(encoders: ReadonlyArray<(seq: number) => Buffer>): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const results = new Array<number>(encoders.length);
      let left = encoders.length;
      if (left === 0) return resolve(results);
      const seqs: number[] = [];
      const msgs: Buffer[] = [];
      encoders.forEach((encode, i) => {
        const seq = this.nextSeq();
        seqs.push(seq);
        msgs.push(encode(seq));
        this.#pending.set(seq, {
          onMessage: (type, payload) => {
            if (type !== NLMSG_ERROR) return false;
            results[i] = errorCode(payload);
            if (--left === 0) resolve(results);
            return true;
          },
        });
      });
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
    this.#failAll(new IpvsError('IPVS socket closed'));
    this.#socket.close();
  }

  #send(seqs: number[], msg: Buffer, reject: (err: Error) => void): void {
    if (this.#closed) {
      for (const seq of seqs) this.#pending.delete(seq);
      reject(new IpvsError('IPVS socket closed'));
      return;
    }
    // Keep the process alive only while a request is in flight.
    this.#socket.ref();
    this.#socket.send(msg, {}, (err) => {
      if (!err) return;
      for (const seq of seqs) this.#pending.delete(seq);
      this.#maybeUnref();
      reject(new IpvsError(`IPVS: sendmsg failed: ${err.message}`, { cause: err }));
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

function encoderOf(familyId: number, c: IpvsChange): (seq: number) => Buffer {
  switch (c.op) {
    case 'add-service':
      return (seq) => encodeNewService(familyId, seq, c.service);
    case 'update-service':
      return (seq) => encodeSetService(familyId, seq, c.service);
    case 'delete-service':
      return (seq) => encodeDelService(familyId, seq, c.service);
    case 'add-dest':
      return (seq) => encodeNewDest(familyId, seq, c.service, c.dest);
    case 'update-dest':
      return (seq) => encodeSetDest(familyId, seq, c.service, c.dest);
    case 'delete-dest':
      return (seq) => encodeDelDest(familyId, seq, c.service, c.dest);
  }
}

class KernelIpvsTable implements IpvsTable {
  readonly #conn: GenlConnection;
  readonly #familyId: number;
  /** One operation at a time: a netlink socket runs one dump at once. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(conn: GenlConnection, familyId: number) {
    this.#conn = conn;
    this.#familyId = familyId;
  }

  get roundTrips(): number {
    return this.#conn.roundTrips;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const op = this.#queue.then(fn);
    this.#queue = op.catch(() => {});
    return op;
  }

  listServices(): Promise<IpvsService[]> {
    return this.#serial(async () => {
      const out: IpvsService[] = [];
      await this.#conn.request(
        (seq) => encodeDumpServices(this.#familyId, seq),
        (payload) => {
          if (genlCommand(payload) !== IPVS_CMD.NEW_SERVICE) return;
          const s = decodeService(payload);
          if (s) out.push(s);
        },
        true,
      );
      return out;
    });
  }

  listDests(service: IpvsServiceId): Promise<IpvsDest[]> {
    return this.#serial(async () => {
      const out: IpvsDest[] = [];
      await this.#conn.request(
        (seq) => encodeDumpDests(this.#familyId, seq, service),
        (payload) => {
          if (genlCommand(payload) !== IPVS_CMD.NEW_DEST) return;
          const d = decodeDest(payload, service.family);
          if (d) out.push(d);
        },
        true,
      );
      return out;
    });
  }

  apply(changes: readonly IpvsChange[]): Promise<IpvsFailure[]> {
    return this.#serial(async () => {
      const failures: IpvsFailure[] = [];
      for (let i = 0; i < changes.length; i += BATCH_WINDOW) {
        const window = changes.slice(i, i + BATCH_WINDOW);
        const errnos = await this.#conn.batch(window.map((c) => encoderOf(this.#familyId, c)));
        errnos.forEach((errno, j) => {
          if (errno !== 0) failures.push({ change: window[j], errno: errnoName(errno) });
        });
      }
      return failures;
    });
  }

  getTimeouts(): Promise<IpvsTimeouts> {
    return this.#serial(async () => {
      let t: IpvsTimeouts = { tcp: 0, tcpFin: 0, udp: 0 };
      await this.#conn.request((seq) => encodeGetConfig(this.#familyId, seq), (payload) => {
        t = decodeTimeouts(payload);
      });
      return t;
    });
  }

  setTimeouts(t: IpvsTimeouts): Promise<void> {
    return this.#serial(async () => {
      const [errno] = await this.#conn.batch([(seq) => encodeSetTimeouts(this.#familyId, seq, t)]);
      if (errno) throw new IpvsError(`setting the IPVS timeouts failed: ${errnoName(errno)}`);
    });
  }

  flush(): Promise<void> {
    return this.#serial(async () => {
      const [errno] = await this.#conn.batch([(seq) => encodeFlush(this.#familyId, seq)]);
      if (errno) throw new IpvsError(`flushing the IPVS table failed: ${errnoName(errno)}`);
    });
  }

  close(): void {
    this.#conn.close();
  }
}
