// routes.mode ipip (Calico's default): IPv4 prefixes of other nodes go
// `via <peer InternalIP> dev tunl0 onlink`, each packet wrapped in one more
// IPv4 header (IP protocol 4) addressed to the peer. tunl0 is the ipip
// module's fallback device: it exists once the module is loaded, takes
// packets from any remote, and cannot be deleted, so netlet marks it with
// its alias while it uses it, and cleanup only undoes (down, no address,
// no alias) a tunl0 carrying that mark. IPIP has no link layer, so there
// are no neighbour or FDB entries to keep.
import { NetletError } from '../base/errors.ts';
import type { Family } from '../base/family.ts';
import { closeRtnl, configureLink, ensureTunl0, linkByName, openRtnl, setMtu, withRtnl } from '../netlink/index.ts';
import type { Rtnl } from '../netlink/index.ts';
import { insideSubnet } from './encapsulation.ts';
import type { Encapsulation } from './encapsulation.ts';
import type { RouteMode, RouteModeOptions } from './route-mode.ts';
import type { Peer } from './peer.ts';
import type { NodeRoute } from './route-table.ts';
import { findUnderlay, keepOnlyAddress } from './tunnel-device.ts';
import { IPIP_ALIAS, IPIP_DEVICE, IPIP_OVERHEAD } from './tunnel-names.ts';

export class IpipMode implements RouteMode {
  readonly name = 'ipip';
  readonly #encapsulation: Encapsulation;
  readonly #netnsPath: string | undefined;
  #sock: Rtnl | undefined;
  /** The underlay subnet once tunl0 is ready; undefined while it is not (routeTo then skips). */
  #subnet: string | undefined;

  constructor(opts: RouteModeOptions = {}) {
    this.#encapsulation = opts.encapsulation ?? 'always';
    this.#netnsPath = opts.netnsPath;
  }

  async ensureDevices(self: Peer | undefined): Promise<void> {
    const sock = (this.#sock ??= openRtnl(this.#netnsPath));
    this.#subnet = undefined;
    const local = self?.addresses[4];
    if (!local) return;
    const underlay = await findUnderlay(sock, local);
    await ensureTunl0(sock);
    const link = await linkByName(sock, IPIP_DEVICE);
    if (!link) throw new NetletError('ERR_ROUTES_DEVICE', `${IPIP_DEVICE} is missing after the ipip module was asked for it (no ipip in this kernel?)`);
    const mtu = underlay.mtu - IPIP_OVERHEAD;
    if (link.mtu !== mtu) await setMtu(sock, link.index, mtu);
    if (!link.up) await configureLink(sock, link.index, { alias: IPIP_ALIAS, up: true });
    else await configureLink(sock, link.index, { alias: IPIP_ALIAS });
    // The tunnel address gives packets the node itself sends to a remote pod a source the pod can answer.
    await keepOnlyAddress(sock, link.index, 4, self?.tunnel?.addresses[4]);
    this.#subnet = underlay.subnet;
  }

  routeTo(dst: string, family: Family, peer: Peer): NodeRoute | { skip: string } {
    if (family === 6) return { skip: 'IPIP carries IPv4 only: IPv6 prefixes need routes.mode vxlan' };
    if (!this.#subnet) return { skip: `no ${IPIP_DEVICE}: this node has no IPv4 InternalIP (or its Node is not known yet)` };
    const underlay = peer.addresses[4];
    if (!underlay) return { skip: `node ${peer.name} has no IPv4 InternalIP to tunnel to` };
    if (this.#encapsulation === 'cross-subnet' && insideSubnet(underlay, this.#subnet)) return { dst, family, type: 'unicast', gateway: underlay };
    return { dst, family, type: 'unicast', gateway: underlay, dev: IPIP_DEVICE, onlink: true };
  }

  async cleanup(): Promise<void> {
    await withRtnl(this.#netnsPath, async (sock) => {
      const link = await linkByName(sock, IPIP_DEVICE);
      if (!link) return;
      if (link.alias !== IPIP_ALIAS) return;
      await keepOnlyAddress(sock, link.index, 4, undefined);
      await configureLink(sock, link.index, { alias: '', up: false });
    });
  }

  close(): void {
    if (this.#sock) closeRtnl(this.#sock);
    this.#sock = undefined;
  }
}
