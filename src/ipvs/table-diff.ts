// What to send the kernel to turn the IPVS table it holds into the one the
// plans want: pure, so the unit tests run it against a fake table. Only the
// virtual servers named in `keys` are compared (all of them on a full sync),
// so a partial sync costs what changed, not what exists (k/k#88212).
//
// Graceful termination: a TCP or SCTP real server that no plan wants any
// more first gets weight 0 (no new connections, existing ones keep flowing)
// and is deleted once the kernel counts no active connection on it (as
// kube-proxy's graceful termination does; drainedDests says why only active
// ones count). A UDP real server is deleted at once: UDP has no close to
// wait for, and a weight-0 server keeps matching the clients' conntrack
// entries for the whole UDP timeout, so DNS clients time out against a pod
// that is gone (k/k#71514); the proxier's UDP conntrack cleanup then
// removes their entries.

import { destKey, serviceKey } from '../netlink/ipvs-codec.ts';
import type { IpvsDest, IpvsService } from '../netlink/ipvs-codec.ts';
import type { IpvsChange } from '../netlink/ipvs.ts';

export interface VirtualServer {
  service: IpvsService;
  /** Real servers by destKey. */
  dests: Map<string, IpvsDest>;
}

/** Virtual servers by serviceKey: what the kernel holds (known) or what the plans want (desired). */
export type IpvsState = Map<string, VirtualServer>;

export interface DiffOptions {
  /** Whether a virtual server no plan wants is netlet's to delete (false for ipvs.excludeCIDRs). */
  owned(service: IpvsService): boolean;
}

export interface TableDiff {
  changes: IpvsChange[];
  /** Virtual servers with real servers at weight 0 waiting for their connections to end. */
  draining: Set<string>;
}

export function sameService(a: IpvsService, b: IpvsService): boolean {
  return a.scheduler === b.scheduler && a.flags === b.flags && a.timeout === b.timeout;
}

/** Real servers a protocol lets drain before they go (UDP goes at once, see the header). */
export const drains = (s: IpvsService): boolean => s.protocol !== 'udp';

/**
 * The changes for the virtual servers in `keys`; undefined: every one
 * either side holds (a full sync). The loops read keys and values apart,
 * not `[key, value]` entries: at 10k services a full sync that changes
 * nothing allocated ~8 MB of entry arrays, and collecting them paused the
 * endpoint changes that followed.
 */
export function diffTable(known: IpvsState, desired: IpvsState, keys: Iterable<string> | undefined, opts: DiffOptions): TableDiff {
  const changes: IpvsChange[] = [];
  const draining = new Set<string>();
  const one = (key: string): void => {
    const want = desired.get(key);
    const have = known.get(key);
    if (!want) {
      if (have && opts.owned(have.service)) changes.push({ op: 'delete-service', service: have.service });
      return;
    }
    if (!have) {
      changes.push({ op: 'add-service', service: want.service });
      for (const d of want.dests.values()) changes.push({ op: 'add-dest', service: want.service, dest: d });
      return;
    }
    if (!sameService(have.service, want.service)) changes.push({ op: 'update-service', service: want.service });
    for (const dk of want.dests.keys()) {
      const d = want.dests.get(dk)!;
      const held = have.dests.get(dk);
      if (!held) changes.push({ op: 'add-dest', service: want.service, dest: d });
      else if (held.weight !== d.weight) changes.push({ op: 'update-dest', service: want.service, dest: d });
    }
    for (const dk of have.dests.keys()) {
      if (want.dests.has(dk)) continue;
      const held = have.dests.get(dk)!;
      if (!drains(want.service)) {
        changes.push({ op: 'delete-dest', service: want.service, dest: held });
        continue;
      }
      if (held.weight !== 0) changes.push({ op: 'update-dest', service: want.service, dest: { address: held.address, port: held.port, weight: 0 } });
      draining.add(key);
    }
  };
  if (keys) for (const key of keys) one(key);
  else {
    for (const key of desired.keys()) one(key);
    for (const key of known.keys()) if (!desired.has(key)) one(key);
  }
  return { changes, draining };
}

/**
 * The deletions of real servers that drained: those at weight 0 that no plan
 * wants and on which the kernel (`current`, just listed) counts no active
 * connection. Inactive ones (FIN_WAIT, TIME_WAIT, CLOSE) carry no more data
 * and would hold the server for minutes; with expire_nodest_conn their
 * stragglers are dropped once it is gone.
 */
export function drainedDests(service: IpvsService, wanted: ReadonlyMap<string, IpvsDest> | undefined, current: readonly IpvsDest[]): IpvsChange[] {
  const out: IpvsChange[] = [];
  for (const d of current) {
    if (wanted?.has(destKey(d)) || d.weight !== 0) continue;
    if ((d.activeConns ?? 0) === 0) out.push({ op: 'delete-dest', service, dest: d });
  }
  return out;
}

/** The state after `changes` were all applied to `known` (kept in memory instead of dumping again). */
export function applyToState(known: IpvsState, changes: readonly IpvsChange[]): void {
  for (const c of changes) {
    const key = serviceKey(c.service);
    switch (c.op) {
      case 'add-service':
        known.set(key, { service: c.service, dests: new Map() });
        break;
      case 'update-service': {
        const vs = known.get(key);
        if (vs) vs.service = c.service;
        break;
      }
      case 'delete-service':
        known.delete(key);
        break;
      case 'add-dest':
      case 'update-dest':
        known.get(key)?.dests.set(destKey(c.dest), { address: c.dest.address, port: c.dest.port, weight: c.dest.weight });
        break;
      case 'delete-dest':
        known.get(key)?.dests.delete(destKey(c.dest));
        break;
    }
  }
}
