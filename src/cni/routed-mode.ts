// Routed mode (Calico style): no bridge. Each pod gets its address as a /32
// (/128), the node a host route to it through the pod's host-side veth, and
// the pod a default route via a link-local gateway that no one holds: the
// host veth answers ARP for it by proxy ARP, so every packet the pod sends
// goes to the node's routing table.
import {
  addAddress,
  addRoute,
  configureLink,
  ensureSysctl,
  ifaceSysctl,
  listAddresses,
  listRoutes,
  replaceRoute,
  setLinkUp,
  RouteScope,
} from '../netlink/index.ts';
import { CniCode, CniError } from './errors.ts';
import { ipOf } from './dataplane.ts';
import type { AttachContext, Mode, Wiring } from './dataplane.ts';
import type { AllocatedAddress } from '../ipam/types.ts';

/** The pod's IPv4 gateway (Calico's choice): link-local, never on the wire as a source. */
export const ROUTED_GATEWAY_V4 = '169.254.1.1';
/** The pod's IPv6 gateway: the host veth carries it as a link-local address. */
export const ROUTED_GATEWAY_V6 = 'fe80::1';

const hostPrefix = (a: AllocatedAddress): string => `${ipOf(a.address)}/${a.family === 4 ? 32 : 128}`;
const gatewayOf = (a: AllocatedAddress): string => (a.family === 4 ? ROUTED_GATEWAY_V4 : ROUTED_GATEWAY_V6);

export const routedMode: Mode = {
  async attach(ctx: AttachContext): Promise<Wiring> {
    const { host, pod, hostVeth, podIf, allocs } = ctx;
    // Per interface, so necessarily per pod. proxy_delay 0: answer at once
    // instead of after a random delay of up to 0.8 s (neigh.proxy_delay default).
    if (allocs.some((a) => a.family === 4)) {
      ensureSysctl(ifaceSysctl(4, hostVeth.name, 'proxy_arp'), '1');
      ensureSysctl(`net/ipv4/neigh/${hostVeth.name}/proxy_delay`, '0');
    }
    if (allocs.some((a) => a.family === 6)) {
      await addAddress(host, hostVeth.index, `${ROUTED_GATEWAY_V6}/64`, { noDad: true });
    }
    await configureLink(host, hostVeth.index, { alias: ctx.alias, up: true });
    for (const a of allocs) {
      // Replace: a route left by an earlier pod with this address must not win.
      await replaceRoute(host, { dst: hostPrefix(a), oif: hostVeth.index, scope: RouteScope.link });
    }

    await setLinkUp(pod, podIf.index, true);
    for (const a of allocs) {
      await addAddress(pod, podIf.index, hostPrefix(a), { exclusive: true, noDad: a.family === 6 });
      const gw = gatewayOf(a);
      if (a.family === 4) await addRoute(pod, { dst: `${gw}/32`, oif: podIf.index, scope: RouteScope.link });
      await addRoute(pod, { dst: a.family === 4 ? '0.0.0.0/0' : '::/0', gateway: gw, oif: podIf.index });
    }
    return {
      hostInterfaces: [],
      ips: allocs.map((a) => ({ address: hostPrefix(a), gateway: gatewayOf(a) })),
      routes: allocs.map((a) => ({ dst: a.family === 4 ? '0.0.0.0/0' : '::/0', gw: gatewayOf(a) })),
    };
  },

  async check(ctx: AttachContext): Promise<void> {
    const { host, pod, hostVeth, podIf, allocs } = ctx;
    const hostRoutes = await listRoutes(host);
    const podAddrs = new Set((await listAddresses(pod, podIf.index)).map((a) => a.cidr));
    const podRoutes = await listRoutes(pod);
    for (const a of allocs) {
      const dst = hostPrefix(a);
      if (!hostRoutes.some((r) => r.dst === dst && r.oif === hostVeth.index)) {
        throw new CniError(CniCode.checkFailed, `the node has no route to ${dst} via ${hostVeth.name}`);
      }
      if (!podAddrs.has(dst)) throw new CniError(CniCode.checkFailed, `${dst} is not on ${podIf.name} in the pod`);
      const gw = gatewayOf(a);
      if (!podRoutes.some((r) => r.gateway === gw && r.oif === podIf.index && r.dst.endsWith('/0'))) {
        throw new CniError(CniCode.checkFailed, `the pod has no default route via ${gw}`);
      }
    }
  },
};
