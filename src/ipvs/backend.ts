// The IPVS ProxyBackend: plans → IPVS virtual and real servers (generic
// netlink), kube-ipvs0's addresses (rtnetlink), kube-proxy's ipsets (one
// `ipset restore` of the changes) and the few iptables rules that match
// them. Applied in Felix's order, what is used before its user: ipsets,
// then the rules that match them, then the addresses, then IPVS.
//
// A partial sync re-renders only the changed plans and sends IPVS only
// their virtual servers' differences; the sets and addresses are diffed
// whole (a map walk, no kernel work when nothing changed). A full sync (at
// start, after a failure, every syncPeriod) diffs every virtual server and
// rewrites the iptables chains; the kernel's IPVS table is dumped only when
// nothing in memory can be trusted (start, failure, damage found by intact()).

import type { Logger } from '../base/log.ts';
import type { Family } from '../base/family.ts';
import { BackendSyncError } from '../proxier/backend.ts';
import type { ProxyBackend, SyncRequest, SyncResult } from '../proxier/backend.ts';
import type { PlanSet } from '../proxier/plan.ts';
import { serviceKey } from '../netlink/ipvs-codec.ts';
import type { IpvsService } from '../netlink/ipvs-codec.ts';
import type { IpvsTable } from '../netlink/ipvs.ts';
import { IpvsError } from '../netlink/ipvs.ts';
import { renderPlan } from './render-plan.ts';
import type { IpvsRenderContext, PlanRender } from './render-plan.ts';
import { IpvsSyncError, IpvsTableSync } from './table-sync.ts';
import type { IpvsState } from './table-diff.ts';
import { IpsetError, IpsetSync } from './ipsets.ts';
import { SET } from './ipset-names.ts';
import type { SetName } from './ipset-names.ts';
import type { AddressHolder } from './dummy-device.ts';
import type { IpvsRulesWriter } from './iptables-writer.ts';
import { IptablesRestoreError } from '../iptables/restore.ts';
import { cidrsContain } from '../proxier/node-ip.ts';

export interface NodeAddresses {
  /** This node's addresses of the family that take NodePorts when nodePortAddresses is empty (not loopback, not kube-ipvs0's). */
  nodeIPs: string[];
  /** Every address on an interface other than kube-ipvs0: external IPs found there are not bound again. */
  local: Set<string>;
}

export interface IpvsBackendOptions {
  family: Family;
  log: Logger;
  scheduler: string;
  /** ipvs.excludeCIDRs: virtual servers there are never deleted. */
  excludeCIDRs: readonly string[];
  masqueradeBit: number;
  tcpBeLiberal: boolean;
  table: IpvsTable;
  ipsets: IpsetSync;
  device: AddressHolder;
  rules: IpvsRulesWriter;
  nodeAddresses: (family: Family) => NodeAddresses;
}

export class IpvsBackend implements ProxyBackend {
  readonly name = 'ipvs';
  readonly #o: IpvsBackendOptions;
  readonly #tableSync: IpvsTableSync;
  #rendered = new Map<string, PlanRender>();
  /** The node facts the renders were made with: when they change, every plan is rendered again. */
  #renderKey = '';
  #rulesKey = '';
  #synced = false;

  constructor(opts: IpvsBackendOptions) {
    this.#o = opts;
    const excluded = opts.excludeCIDRs.filter((c) => (c.includes(':') ? 6 : 4) === opts.family);
    this.#tableSync = new IpvsTableSync(opts.table, opts.family, {
      owned: (s: IpvsService) => excluded.length === 0 || !cidrsContain(excluded, s.address),
    });
  }

  /** What the kernel's IPVS table holds as far as the last sync knows (tests, trace). */
  get known(): IpvsState | undefined {
    return this.#tableSync.known;
  }

  async sync(req: SyncRequest): Promise<SyncResult> {
    const { family, log } = this.#o;
    if (req.family !== family) throw new Error(`IPVS backend for IPv${family} got an IPv${req.family} sync`);
    const full = req.full || !this.#synced;
    const t0 = performance.now();
    try {
      const node = this.#o.nodeAddresses(family);
      const nodeIPs = req.nodePortAddresses.length > 0 ? req.nodePortAddresses : node.nodeIPs;
      const ctx: IpvsRenderContext = { scheduler: this.#o.scheduler, nodeIPs, foreignLocal: node.local };
      const renderKey = `${nodeIPs.join(',')}|${[...node.local].sort().join(',')}`;
      const renderAll = full || renderKey !== this.#renderKey;
      const { rendered, touched } = this.#render(req.plans, ctx, renderAll ? undefined : req.changed);

      const sets = new Map<SetName, Set<string>>();
      const addresses = new Set<string>();
      const desired: IpvsState = new Map();
      for (const r of rendered.values()) {
        for (const [set, entry] of r.entries) {
          let s = sets.get(set);
          if (!s) sets.set(set, (s = new Set()));
          s.add(entry);
        }
        for (const a of r.addresses) addresses.add(a);
        for (const [k, vs] of r.virtualServers) desired.set(k, vs);
      }
      sets.set(SET.ipvsIPs, addresses);
      if (full) {
        this.#o.ipsets.invalidate();
        this.#o.device.invalidate();
      }
      const setLines = await this.#o.ipsets.sync(sets);

      const anyPlan = rendered.values().next().value?.plan;
      const rulesCtx = {
        family,
        masqMark: `0x${(1 << this.#o.masqueradeBit >>> 0).toString(16)}`,
        masqueradeAll: anyPlan?.masqueradeAll ?? false,
        clusterCIDRs: anyPlan?.clusterCIDRs ?? [],
        nodePortAddresses: req.nodePortAddresses,
        tcpBeLiberal: this.#o.tcpBeLiberal,
      };
      const rulesKey = JSON.stringify(rulesCtx);
      if (full || rulesKey !== this.#rulesKey) {
        await this.#o.rules.write(rulesCtx, full);
        this.#rulesKey = rulesKey;
      }
      const addressChanges = await this.#o.device.sync(family, addresses);
      const ipvs = await this.#tableSync.sync(desired, renderAll ? undefined : touched);
      this.#rendered = rendered;
      this.#renderKey = renderKey;
      this.#synced = true;
      const applyMs = performance.now() - t0;
      log.debug({ family, full, plans: req.plans.size, ipvsChanges: ipvs.changes, roundTrips: ipvs.roundTrips, setLines, addressChanges, applyMs }, 'ipvs sync');
      let realServers = 0;
      for (const vs of desired.values()) realServers += vs.dests.size;
      return { ruleCount: desired.size + realServers, applyMs, rulesByTable: { ipvs: desired.size + realServers } };
    } catch (err) {
      this.#synced = false;
      this.#tableSync.invalidate();
      this.#o.ipsets.invalidate();
      this.#o.device.invalidate();
      if (err instanceof IpvsSyncError || err instanceof IpsetError || err instanceof IptablesRestoreError || err instanceof IpvsError) {
        throw new BackendSyncError('restore', err.message, { cause: err });
      }
      throw err;
    }
  }

  /** Renders the changed plans (every plan when `changed` is undefined), keeping the others' renders; `touched` are the virtual servers they had or have. */
  #render(plans: PlanSet, ctx: IpvsRenderContext, changed: ReadonlySet<string> | undefined): { rendered: Map<string, PlanRender>; touched: Set<string> } {
    const touched = new Set<string>();
    if (!changed) {
      const rendered = new Map<string, PlanRender>();
      for (const [key, plan] of plans) rendered.set(key, renderPlan(plan, ctx));
      return { rendered, touched };
    }
    const rendered = new Map(this.#rendered);
    for (const key of changed) {
      const before = rendered.get(key);
      if (before) for (const k of before.virtualServers.keys()) touched.add(k);
      const plan = plans.get(key);
      if (!plan) {
        rendered.delete(key);
        continue;
      }
      const r = before?.plan === plan ? before : renderPlan(plan, ctx);
      rendered.set(key, r);
      for (const k of r.virtualServers.keys()) touched.add(k);
    }
    return { rendered, touched };
  }

  /**
   * Whether the kernel still holds the virtual servers the last sync made: one
   * service dump (no destination dumps) compared with what is known. Someone
   * running `ipvsadm -C` or deleting a service is caught here; the next sync
   * then dumps and repairs.
   */
  async intact(): Promise<boolean> {
    const known = this.#tableSync.known;
    if (!known || !this.#synced) return true;
    const held = new Set((await this.#o.table.listServices()).filter((s) => s.family === this.#o.family).map(serviceKey));
    for (const key of known.keys()) {
      if (!held.has(key)) {
        this.#tableSync.invalidate();
        return false;
      }
    }
    return true;
  }

  async cleanup(): Promise<void> {
    await this.#o.ipsets.sync(new Map());
    await this.#o.device.sync(this.#o.family, new Set());
    await this.#tableSync.sync(new Map());
  }
}
