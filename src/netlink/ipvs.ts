// The kernel's IPVS table over generic netlink (codec: ipvs-codec.ts). The
// family id is resolved by name once per socket; changes go to the kernel
// as batches, many messages per datagram (netlink processes each message of
// a datagram in order and ACKs each), so a sync of N changes costs about
// N / BATCH_WINDOW round trips rather than 2 per service as kube-proxy's
// library does (k/k#88212). A failed message does not stop the ones after
// it: apply() reports every failure with the change that caused it.

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
import { readFile } from 'node:fs/promises';
import type { Family } from '../base/family.ts';
import { BatchSocket, errnoName, openBatchSocket } from './batch-socket.ts';
import { NetletError } from '../base/errors.ts';


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
  /** Real servers of one address family in the whole table: a count, cheaper than a dump per virtual server. */
  countRealServers(family: Family): Promise<number>;
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


/** Opens the kernel's IPVS table (in `netnsPath`'s namespace when given); an IpvsError naming the modules when the kernel has none. */
export async function openIpvs(netnsPath?: string): Promise<IpvsTable> {
  const conn = openBatchSocket(NETLINK_GENERIC, 'IPVS', netnsPath);
  try {
    const familyId = await resolveFamily(conn);
    return new KernelIpvsTable(conn, familyId, netnsPath);
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

async function resolveFamily(conn: BatchSocket): Promise<number> {
  let id: number | undefined;
  try {
    await conn.request((seq) => encodeGetFamily(seq), (payload) => {
      id = decodeFamilyId(payload);
    });
  } catch (err) {
    throw noIpvsError(err);
  }
  if (id === undefined) throw noIpvsError();
  return id;
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
  readonly #conn: BatchSocket;
  readonly #familyId: number;
  /** One operation at a time: a netlink socket runs one dump at once. */
  #queue: Promise<unknown> = Promise.resolve();

  readonly #netnsPath: string | undefined;

  constructor(conn: BatchSocket, familyId: number, netnsPath?: string) {
    this.#conn = conn;
    this.#familyId = familyId;
    this.#netnsPath = netnsPath;
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

  async countRealServers(family: Family): Promise<number> {
    // /proc/net/ip_vs is the reading process's namespace: one read of the
    // table as text. In another namespace, a dump per virtual server.
    if (this.#netnsPath === undefined) return countProcRealServers(await readFile('/proc/net/ip_vs', 'latin1'), family);
    let n = 0;
    for (const s of await this.listServices()) if (s.family === family) n += (await this.listDests(s)).length;
    return n;
  }

  close(): void {
    this.#conn.close();
  }
}

/** Real-server lines ("  -> ADDR:PORT …") of one family in /proc/net/ip_vs (IPv6 addresses are bracketed). */
export function countProcRealServers(text: string, family: Family): number {
  const mark = family === 6 ? '\n  -> [' : '\n  -> ';
  let n = 0;
  for (let i = text.indexOf(mark); i >= 0; i = text.indexOf(mark, i + 1)) {
    const first = text.charCodeAt(i + 6);
    // For IPv4, not an IPv6 one ("[") nor the header's "  -> RemoteAddress:Port".
    if (family === 6 || (first !== 91 && first !== 82)) n++;
  }
  return n;
}
