// What the kernel must hold for the current renders, kept up to date render
// by render: the desired IPVS table, the ipset entries and kube-ipvs0's
// addresses, each entry counted by the renders that want it (two services
// share a hairpin entry, an external IP may be two services'). A partial sync
// replaces the changed plans' renders and takes the net difference, so its
// cost follows what changed, not how many services exist (k/k#88212).

import type { IpvsState } from './table-diff.ts';
import type { PlanRender } from './render-plan.ts';
import { SET } from './ipset-names.ts';
import type { SetName } from './ipset-names.ts';

export interface WantedDelta {
  setAdds: Array<[SetName, string]>;
  setDels: Array<[SetName, string]>;
  addressAdds: string[];
  addressDels: string[];
}

export class WantedState {
  readonly desired: IpvsState = new Map();
  #entries = new Map<SetName, Map<string, number>>();
  #addresses = new Map<string, number>();
  #realServers = 0;
  /** Whether each entry touched since the last takeDelta() was wanted before it ("set entry" or "@address"). */
  #before = new Map<string, boolean>();

  /** Every render at once (a full sync): nothing to take a delta from. */
  static of(renders: Iterable<PlanRender>): WantedState {
    const w = new WantedState();
    for (const r of renders) w.replace(undefined, r);
    w.#before.clear();
    return w;
  }

  get realServers(): number {
    return this.#realServers;
  }

  /** Every set's entries (ipvsIPs: the addresses), for a full sync. */
  sets(): Map<SetName, Set<string>> {
    const out = new Map<SetName, Set<string>>();
    for (const [set, m] of this.#entries) out.set(set, new Set(m.keys()));
    out.set(SET.ipvsIPs, this.addresses());
    return out;
  }

  addresses(): Set<string> {
    return new Set(this.#addresses.keys());
  }

  /** Swaps one plan's render for another (either may be undefined: a plan added or gone). */
  replace(before: PlanRender | undefined, after: PlanRender | undefined): void {
    if (before === after) return;
    if (before) {
      for (const [set, entry] of before.entries) this.#count(set, entry, -1);
      for (const a of before.addresses) this.#countAddress(a, -1);
      for (const [k, vs] of before.virtualServers) {
        if (this.desired.get(k) !== vs) continue;
        this.desired.delete(k);
        this.#realServers -= vs.dests.size;
      }
    }
    if (after) {
      for (const [set, entry] of after.entries) this.#count(set, entry, 1);
      for (const a of after.addresses) this.#countAddress(a, 1);
      for (const [k, vs] of after.virtualServers) {
        const old = this.desired.get(k);
        if (old) this.#realServers -= old.dests.size;
        this.desired.set(k, vs);
        this.#realServers += vs.dests.size;
      }
    }
  }

  /** The net changes since the last call: what is wanted now and was not, and the reverse. */
  takeDelta(): WantedDelta {
    const d: WantedDelta = { setAdds: [], setDels: [], addressAdds: [], addressDels: [] };
    for (const [id, was] of this.#before) {
      if (id.startsWith('@')) {
        const a = id.slice(1);
        const now = this.#addresses.has(a);
        if (now && !was) d.addressAdds.push(a);
        else if (!now && was) d.addressDels.push(a);
        continue;
      }
      const space = id.indexOf(' ');
      const set = id.slice(0, space) as SetName;
      const entry = id.slice(space + 1);
      const now = this.#entries.get(set)?.has(entry) ?? false;
      if (now && !was) d.setAdds.push([set, entry]);
      else if (!now && was) d.setDels.push([set, entry]);
    }
    for (const a of d.addressAdds) d.setAdds.push([SET.ipvsIPs, a]);
    for (const a of d.addressDels) d.setDels.push([SET.ipvsIPs, a]);
    this.#before.clear();
    return d;
  }

  #count(set: SetName, entry: string, by: 1 | -1): void {
    let m = this.#entries.get(set);
    if (!m) this.#entries.set(set, (m = new Map()));
    const id = `${set} ${entry}`;
    const n = m.get(entry) ?? 0;
    if (!this.#before.has(id)) this.#before.set(id, n > 0);
    if (n + by > 0) m.set(entry, n + by);
    else m.delete(entry);
  }

  #countAddress(a: string, by: 1 | -1): void {
    const n = this.#addresses.get(a) ?? 0;
    if (!this.#before.has(`@${a}`)) this.#before.set(`@${a}`, n > 0);
    if (n + by > 0) this.#addresses.set(a, n + by);
    else this.#addresses.delete(a);
  }
}
