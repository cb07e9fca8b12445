// routes.mode vxlan: one VXLAN device per family (VXLAN_DEVICE), sending
// from this node's InternalIP through the device holding it, learning off.
// For each peer reached through it: a permanent neighbour (the peer's tunnel
// address → its VTEP MAC), a permanent FDB entry (that MAC → the peer's
// InternalIP), and `<prefix> via <peer tunnel address> dev <vxlan> onlink`.
// The device and every entry on it are netlet's: a resync removes whatever
// entry on it no peer asks for, and touches nothing on any other device.
//
// Transmit checksum offload is left as the kernel sets it (on). Calico turns
// it off (`tx-checksum-ip-generic off`) because vxlan.calico stalled TCP on
// some kernels (calico#3145, #11435), but that costs every packet a checksum
// in software: measured here (bench/route-tunnels.ts, kernel 6.18, one TCP
// stream pod → pod) offload off gave 2.0 Gbit/s against 11.2 on, 0.18 of it,
// and no stall was seen with it on. A kernel with that bug would be the
// place for a setting, not every node.
import { NetletError } from '../base/errors.ts';
import type { Family } from '../base/family.ts';
import {
  appendFdb,
  createVxlan,
  deleteFdb,
  deleteLink,
  deleteNeighbour,
  linkByName,
  listFdb,
  listNeighbours,
  replaceNeighbour,
  setLinkMac,
  setLinkUp,
  setMtu,
  vxlanSettings,
  withRtnl,
  closeRtnl,
  openRtnl,
} from '../netlink/index.ts';
import type { Rtnl } from '../netlink/index.ts';
import { insideSubnet } from './encapsulation.ts';
import type { Encapsulation } from './encapsulation.ts';
import type { RouteMode, RouteModeOptions } from './route-mode.ts';
import type { Peer } from './peer.ts';
import type { NodeRoute } from './route-table.ts';
import { findUnderlay, keepOnlyAddress } from './tunnel-device.ts';
import { VXLAN_DEVICE, VXLAN_OVERHEAD } from './tunnel-names.ts';
import { derivedVtepMac } from './vtep-mac.ts';

/** Calico's defaults (its FelixConfiguration vxlanVNI and vxlanPort). */
export const DEFAULT_VNI = 4096;
export const DEFAULT_VXLAN_PORT = 4789;

/** What ensureDevices found for one family: the device to route through and the subnet cross-subnet compares with. */
interface FamilyState {
  index: number;
  subnet: string;
}

export class VxlanMode implements RouteMode {
  readonly name = 'vxlan';
  readonly #vni: number;
  readonly #port: number;
  readonly #encapsulation: Encapsulation;
  readonly #netnsPath: string | undefined;
  #sock: Rtnl | undefined;
  #state: Partial<Record<Family, FamilyState>> = {};
  /** Why a family has no device although this node has an InternalIP of it (shown as the skip reason of its prefixes). */
  #problem: Partial<Record<Family, string>> = {};

  constructor(opts: RouteModeOptions = {}) {
    this.#vni = opts.vxlan?.vni ?? DEFAULT_VNI;
    this.#port = opts.vxlan?.port ?? DEFAULT_VXLAN_PORT;
    // VNIs are 24 bits (RFC 7348 section 5).
    if (!Number.isInteger(this.#vni) || this.#vni < 1 || this.#vni > 0xffffff) throw new NetletError('ERR_ROUTE_MODE', `vxlan VNI must be 1..16777215, got ${this.#vni}`);
    if (!Number.isInteger(this.#port) || this.#port < 1 || this.#port > 65535) throw new NetletError('ERR_ROUTE_MODE', `vxlan port must be 1..65535, got ${this.#port}`);
    this.#encapsulation = opts.encapsulation ?? 'always';
    this.#netnsPath = opts.netnsPath;
  }

  async ensureDevices(self: Peer | undefined): Promise<void> {
    const sock = (this.#sock ??= openRtnl(this.#netnsPath));
    const state: Partial<Record<Family, FamilyState>> = {};
    const problem: Partial<Record<Family, string>> = {};
    // Unknown self (its Node not in the store yet): no state, so routeTo skips; the devices stay as they are.
    for (const family of self ? ([4, 6] as const) : []) {
      const local = self!.addresses[family];
      if (!local) {
        // The node lost (or never had) an InternalIP of this family: its device has nothing to send from.
        await deleteLink(sock, VXLAN_DEVICE[family]);
        continue;
      }
      try {
        state[family] = await this.#ensureDevice(sock, family, local, self!);
      } catch (err) {
        // An InternalIP on no device here is the Node's mistake, not a passing failure: that family's
        // prefixes are skipped (and logged), the other family keeps working. Anything else fails the sync.
        if ((err as { code?: string }).code !== 'ERR_ROUTES_UNDERLAY') throw err;
        problem[family] = (err as Error).message;
      }
    }
    this.#state = state;
    this.#problem = problem;
  }

  async #ensureDevice(sock: Rtnl, family: Family, local: string, self: Peer): Promise<FamilyState> {
    const name = VXLAN_DEVICE[family];
    const underlay = await findUnderlay(sock, local);
    const mtu = underlay.mtu - VXLAN_OVERHEAD[family];
    const mac = self.tunnel?.mac ?? derivedVtepMac(self.name);
    const have = await vxlanSettings(sock, name);
    const fits = have && have.vni === this.#vni && have.port === this.#port && have.local === local && have.link === underlay.index && !have.learning;
    if (!fits) {
      // These settings cannot be changed on a live device: a device that differs is made anew (its entries go with it).
      await deleteLink(sock, name);
      await createVxlan(sock, { name, vni: this.#vni, port: this.#port, local, link: underlay.index, mtu, mac });
    }
    const link = await linkByName(sock, name);
    if (!link) throw new NetletError('ERR_ROUTES_DEVICE', `${name} vanished right after it was made`);
    if (link.mtu !== mtu) await setMtu(sock, link.index, mtu);
    if (link.mac !== mac) await setLinkMac(sock, link.index, mac);
    if (!link.up) await setLinkUp(sock, link.index, true);
    await keepOnlyAddress(sock, link.index, family, self.tunnel?.addresses[family]);
    return { index: link.index, subnet: underlay.subnet };
  }

  routeTo(dst: string, family: Family, peer: Peer): NodeRoute | { skip: string } {
    const state = this.#state[family];
    if (!state) return { skip: `no ${VXLAN_DEVICE[family]}: ${this.#problem[family] ?? `this node has no IPv${family} InternalIP (or its Node is not known yet)`}` };
    const underlay = peer.addresses[family];
    if (!underlay) return { skip: `node ${peer.name} has no IPv${family} InternalIP to tunnel to` };
    if (this.#sameSubnet(underlay, state)) return { dst, family, type: 'unicast', gateway: underlay };
    const via = peer.tunnel?.addresses[family];
    if (!via || !peer.tunnel?.mac) return { skip: `node ${peer.name}'s IPv${family} tunnel end is not known (it owns no IPv${family} block)` };
    return { dst, family, type: 'unicast', gateway: via, dev: VXLAN_DEVICE[family], onlink: true };
  }

  #sameSubnet(underlay: string, state: FamilyState): boolean {
    return this.#encapsulation === 'cross-subnet' && insideSubnet(underlay, state.subnet);
  }

  async syncNeighbours(peers: readonly Peer[]): Promise<void> {
    const sock = (this.#sock ??= openRtnl(this.#netnsPath));
    for (const family of [4, 6] as const) {
      const state = this.#state[family];
      if (!state) continue;
      // What routeTo sent through the tunnel, per peer: its tunnel address, MAC and InternalIP.
      const neighbours = new Map<string, string>();
      const fdb = new Set<string>();
      for (const p of peers) {
        const underlay = p.addresses[family];
        const via = p.tunnel?.addresses[family];
        const mac = p.tunnel?.mac;
        if (!underlay || !via || !mac || this.#sameSubnet(underlay, state)) continue;
        neighbours.set(via, mac);
        fdb.add(`${mac} ${underlay}`);
      }
      await syncFdb(sock, state.index, fdb);
      await syncNeighbourEntries(sock, state.index, neighbours);
    }
  }

  async cleanup(): Promise<void> {
    await withRtnl(this.#netnsPath, async (sock) => {
      for (const name of Object.values(VXLAN_DEVICE)) await deleteLink(sock, name);
    });
  }

  close(): void {
    if (this.#sock) closeRtnl(this.#sock);
    this.#sock = undefined;
  }
}

/** Makes the device's FDB entries with a remote exactly `want` ("mac dst" pairs): stale ones first, so a moved peer never has two. */
async function syncFdb(sock: Rtnl, index: number, want: Set<string>): Promise<void> {
  const have = new Set<string>();
  for (const e of await listFdb(sock, index)) {
    if (!e.dst) continue;
    const key = `${e.mac} ${e.dst}`;
    if (want.has(key)) have.add(key);
    else await deleteFdb(sock, index, e.mac, e.dst);
  }
  for (const key of want) {
    if (have.has(key)) continue;
    const [mac, dst] = key.split(' ');
    await appendFdb(sock, index, mac, dst);
  }
}

/** Makes the device's neighbour entries exactly `want` (tunnel address → MAC), all permanent. */
async function syncNeighbourEntries(sock: Rtnl, index: number, want: Map<string, string>): Promise<void> {
  const ok = new Set<string>();
  for (const n of await listNeighbours(sock, index)) {
    if (n.proxy) continue;
    if (n.permanent && want.get(n.ip) === n.mac) ok.add(n.ip);
    else await deleteNeighbour(sock, index, n.ip);
  }
  for (const [ip, mac] of want) if (!ok.has(ip)) await replaceNeighbour(sock, index, ip, mac);
}
