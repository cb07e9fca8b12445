// The IPVS ProxyBackend: plans → IPVS virtual and real servers (generic
// netlink), kube-ipvs0's addresses (rtnetlink), kube-proxy's ipsets (one
// `ipset restore` of the changes) and the few iptables rules that match
// them. Applied in Felix's order, what is used before its user: ipsets,
// then the rules that match them, then the addresses, then IPVS.
//
// A partial sync re-renders only the changed plans and sends the kernel
// only their differences (IPVS, ipset entries, addresses: wanted-state.ts),
// so its cost does not grow with the services that did not change. A full sync (at
// start, after a failure, every syncPeriod) diffs every virtual server, set
// entry and address and rewrites the iptables chains; the kernel's IPVS
// table, ipsets and kube-ipvs0 are read only when nothing in memory can be
// trusted (start, failure, damage found by intact()).

import type { Logger } from '../base/log.ts';
import type { Family } from '../base/family.ts';
import { NetletError } from '../base/errors.ts';
import { BackendSyncError } from '../proxier/backend.ts';
import type { ProxyBackend, SyncRequest, SyncResult } from '../proxier/backend.ts';
import { serviceKey } from '../netlink/ipvs-codec.ts';
import type { IpvsService } from '../netlink/ipvs-codec.ts';
import type { IpvsTable } from '../netlink/ipvs.ts';
import { IpvsError } from '../netlink/ipvs.ts';
import { renderPlan } from './render-plan.ts';
import type { IpvsRenderContext, PlanRender } from './render-plan.ts';
import { IpvsSyncError, IpvsTableSync } from './table-sync.ts';
import type { IpvsState } from './table-diff.ts';
import { IpsetError, IpsetSync } from './ipsets.ts';
import { WantedState } from './wanted-state.ts';
import type { WantedDelta } from './wanted-state.ts';
import { DUMMY_DEVICE } from './dummy-device.ts';
import type { AddressHolder } from './dummy-device.ts';
import type { IpvsRulesWriter } from './iptables-writer.ts';
import type { IpvsRulesContext } from './iptables-rules.ts';
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
  readonly #rendered = new Map<string, PlanRender>();
  /** What the renders want of the kernel, counted entry by entry. */
  #wanted = new WantedState();
  /** This node's addresses, read on full syncs. */
  #node: NodeAddresses | undefined;
  /** The node facts the renders were made with: when they change, every plan is rendered again. */
  #renderKey = '';
  #rulesKey = '';
  /** The context the chains were last written with: intact() compares the kernel's with it. */
  #rulesCtx: IpvsRulesContext | undefined;
  #synced = false;
  /** Syncs begun, and whether one runs: an intact() check that overlapped one says nothing. */
  #syncsBegun = 0;
  #syncing = false;

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
    this.#syncsBegun++;
    this.#syncing = true;
    try {
      // Reading the node's addresses walks every address, kube-ipvs0's
      // thousands included: done on full syncs only (every syncPeriod), so
      // a new node IP gets its NodePorts within one syncPeriod.
      if (full || !this.#node) this.#node = this.#o.nodeAddresses(family);
      const node = this.#node;
      const nodeIPs = req.nodePortAddresses.length > 0 ? req.nodePortAddresses : node.nodeIPs;
      const ctx: IpvsRenderContext = { scheduler: this.#o.scheduler, nodeIPs, foreignLocal: node.local };
      const renderKey = `${nodeIPs.join(',')}|${[...node.local].sort().join(',')}`;
      const renderAll = full || renderKey !== this.#renderKey;

      // A full sync renders and compares everything; a partial one only the changed plans.
      let delta: WantedDelta | undefined;
      let touched: Set<string> | undefined;
      if (renderAll) {
        // The renders are updated in place, and what is wanted is rebuilt
        // only when a render changed: a periodic full sync where nothing
        // changed allocates nothing that lives on. At 10k services a new map
        // of renders and a new wanted state each full sync survived into the
        // old generation, and collecting them paused the endpoint changes
        // that followed (bench/ipvs-sync.ts).
        const rendered = this.#rendered;
        const sameNode = renderKey === this.#renderKey;
        let changes = 0;
        for (const [key, plan] of req.plans) {
          const earlier = rendered.get(key);
          if (earlier?.plan === plan && sameNode) continue;
          rendered.set(key, renderPlan(plan, ctx));
          changes++;
        }
        if (rendered.size !== req.plans.size) {
          for (const key of rendered.keys()) {
            if (req.plans.has(key)) continue;
            rendered.delete(key);
            changes++;
          }
        }
        if (changes > 0 || !this.#synced) this.#wanted = WantedState.of(rendered.values());
        // The ipsets and kube-ipvs0 are not read again here: intact() compares
        // them with what is known every syncPeriod and forgets it on damage,
        // as a failed sync does, so what is known is what the kernel holds.
      } else {
        touched = new Set<string>();
        for (const key of req.changed) {
          const before = this.#rendered.get(key);
          const plan = req.plans.get(key);
          const after = plan ? (before?.plan === plan ? before : renderPlan(plan, ctx)) : undefined;
          if (before) for (const k of before.virtualServers.keys()) touched.add(k);
          if (after) for (const k of after.virtualServers.keys()) touched.add(k);
          this.#wanted.replace(before, after);
          if (after) this.#rendered.set(key, after);
          else this.#rendered.delete(key);
        }
        delta = this.#wanted.takeDelta();
      }
      const wanted = this.#wanted;
      const setLines = delta
        ? await this.#o.ipsets.applyDelta(delta.setAdds, delta.setDels, () => wanted.sets())
        : await this.#o.ipsets.sync(wanted.sets());

      const anyPlan = this.#rendered.values().next().value?.plan;
      const rulesCtx: IpvsRulesContext = {
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
        this.#rulesCtx = rulesCtx;
      }
      const addressChanges = delta
        ? await this.#o.device.applyDelta(family, delta.addressAdds, delta.addressDels, () => wanted.addresses())
        : await this.#o.device.sync(family, wanted.addresses());
      const ipvs = await this.#tableSync.sync(wanted.desired, touched);
      this.#renderKey = renderKey;
      this.#synced = true;
      const applyMs = performance.now() - t0;
      log.debug({ family, full, plans: req.plans.size, ipvsChanges: ipvs.changes, roundTrips: ipvs.roundTrips, setLines, addressChanges, applyMs }, 'ipvs sync');
      const count = wanted.desired.size + wanted.realServers;
      return { ruleCount: count, applyMs, rulesByTable: { ipvs: count } };
    } catch (err) {
      this.#synced = false;
      this.#tableSync.invalidate();
      this.#o.ipsets.invalidate();
      this.#o.device.invalidate();
      // Whatever the kernel or a tool refused counts as a failed restore; a bug does not.
      if (err instanceof IpvsSyncError || err instanceof IpsetError || err instanceof IptablesRestoreError || err instanceof IpvsError || (err instanceof NetletError && err.code === 'ERR_NETLINK')) {
        throw new BackendSyncError('restore', err.message, { cause: err });
      }
      throw err;
    } finally {
      this.#syncing = false;
    }
  }

  /**
   * Whether the kernel still holds what the last sync made, compared
   * cheaply, without a dump per virtual server: the virtual servers (one
   * service dump), the number of real servers (/proc/net/ip_vs),
   * kube-ipvs0's addresses, each set's entry count (`ipset list -t`) and
   * the chains' rule counts and jumps (iptables-save). Someone running
   * `ipvsadm -C`, `ipset flush`, `ip addr flush dev kube-ipvs0` or
   * `iptables -F` is caught here; the proxier then queues a full sync, which
   * reads the kernel again and repairs.
   */
  async intact(): Promise<boolean> {
    const known = this.#tableSync.known;
    if (!known || !this.#synced || this.#syncing) return true;
    const begun = this.#syncsBegun;
    const damage = await this.#damage(known);
    if (damage === undefined || this.#syncsBegun !== begun || this.#syncing) return true;
    this.#o.log.warn({ family: this.#o.family, damage }, 'IPVS state changed behind netlet; a full sync repairs it');
    this.#synced = false;
    this.#tableSync.invalidate();
    this.#o.ipsets.invalidate();
    this.#o.device.invalidate();
    return false;
  }

  /** What differs from the last sync's result, or undefined. */
  async #damage(known: IpvsState): Promise<string | undefined> {
    const family = this.#o.family;
    const held = (await this.#o.table.listServices()).filter((s) => s.family === family).map(serviceKey);
    if (held.length !== known.size || held.some((k) => !known.has(k))) return 'virtual servers';
    let dests = 0;
    for (const vs of known.values()) dests += vs.dests.size;
    if ((await this.#o.table.countRealServers(family)) !== dests) return 'real servers';
    const bound = new Set(await this.#o.device.addresses(family));
    const wanted = this.#wanted.addresses();
    if (bound.size !== wanted.size || [...wanted].some((a) => !bound.has(a))) return `${DUMMY_DEVICE} addresses`;
    if (!(await this.#o.ipsets.intact())) return 'ipsets';
    if (this.#rulesCtx && !(await this.#o.rules.intact(this.#rulesCtx))) return 'iptables chains';
    return undefined;
  }

  async cleanup(): Promise<void> {
    await this.#o.ipsets.sync(new Map());
    await this.#o.device.sync(this.#o.family, new Set());
    await this.#tableSync.sync(new Map());
  }
}
