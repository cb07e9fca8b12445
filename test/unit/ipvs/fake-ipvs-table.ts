// An in-memory IPVS table with the kernel's answers (EEXIST, ENOENT,
// ESRCH) for the unit tests of the diff and the backend; the real one
// (netlink/ipvs.ts) is exercised in the UML suite. It counts round trips as
// the real one does: one per dump and one per batch window.
import { destKey, serviceKey } from '../../../src/netlink/ipvs-codec.ts';
import type { IpvsDest, IpvsService, IpvsServiceId, IpvsTimeouts } from '../../../src/netlink/ipvs-codec.ts';
import { BATCH_WINDOW } from '../../../src/netlink/ipvs.ts';
import type { IpvsChange, IpvsFailure, IpvsTable } from '../../../src/netlink/ipvs.ts';

export class FakeIpvsTable implements IpvsTable {
  services = new Map<string, { service: IpvsService; dests: Map<string, IpvsDest> }>();
  timeouts: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  roundTrips = 0;
  /** Every change applied, in order. */
  log: IpvsChange[] = [];
  /** Connection counts the "kernel" reports per "serviceKey dest", for draining. */
  conns = new Map<string, number>();
  closed = false;

  async listServices(): Promise<IpvsService[]> {
    this.roundTrips++;
    return [...this.services.values()].map((v) => ({ ...v.service }));
  }

  async countRealServers(family: 4 | 6): Promise<number> {
    let n = 0;
    for (const v of this.services.values()) if (v.service.family === family) n += v.dests.size;
    return n;
  }

  async listDests(s: IpvsServiceId): Promise<IpvsDest[]> {
    this.roundTrips++;
    const vs = this.services.get(serviceKey(s));
    if (!vs) throw new Error('ESRCH');
    return [...vs.dests.values()].map((d) => ({ ...d, activeConns: this.conns.get(`${serviceKey(s)} ${destKey(d)}`) ?? 0, inactiveConns: 0 }));
  }

  async apply(changes: readonly IpvsChange[]): Promise<IpvsFailure[]> {
    this.roundTrips += Math.ceil(changes.length / BATCH_WINDOW);
    const failures: IpvsFailure[] = [];
    for (const c of changes) {
      const errno = this.#one(c);
      if (errno) failures.push({ change: c, errno });
      else this.log.push(c);
    }
    return failures;
  }

  #one(c: IpvsChange): string | undefined {
    const key = serviceKey(c.service);
    const vs = this.services.get(key);
    if (c.op === 'add-service') {
      if (vs) return 'EEXIST';
      this.services.set(key, { service: { ...c.service }, dests: new Map() });
      return undefined;
    }
    if (!vs) return 'ESRCH';
    switch (c.op) {
      case 'update-service':
        vs.service = { ...c.service };
        return undefined;
      case 'delete-service':
        this.services.delete(key);
        return undefined;
      case 'add-dest':
        if (vs.dests.has(destKey(c.dest))) return 'EEXIST';
        vs.dests.set(destKey(c.dest), { address: c.dest.address, port: c.dest.port, weight: c.dest.weight });
        return undefined;
      case 'update-dest':
        if (!vs.dests.has(destKey(c.dest))) return 'ENOENT';
        vs.dests.set(destKey(c.dest), { address: c.dest.address, port: c.dest.port, weight: c.dest.weight });
        return undefined;
      case 'delete-dest':
        return vs.dests.delete(destKey(c.dest)) ? undefined : 'ENOENT';
    }
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    this.roundTrips++;
    return { ...this.timeouts };
  }

  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    this.roundTrips++;
    for (const k of ['tcp', 'tcpFin', 'udp'] as const) if (t[k]) this.timeouts[k] = t[k];
  }

  async flush(): Promise<void> {
    this.roundTrips++;
    this.services.clear();
  }

  close(): void {
    this.closed = true;
  }

  /** The table as `ipvsadm -Ln` lines, sorted: what the tests compare. */
  text(): string[] {
    const out: string[] = [];
    for (const [k, vs] of [...this.services].sort(([a], [b]) => a.localeCompare(b))) {
      const s = vs.service;
      out.push(`${k} ${s.scheduler}${s.flags & 1 ? ` persistent ${s.timeout}` : ''}`);
      for (const [dk, d] of [...vs.dests].sort(([a], [b]) => a.localeCompare(b))) out.push(`  -> ${dk} ${d.weight}`);
    }
    return out;
  }
}
