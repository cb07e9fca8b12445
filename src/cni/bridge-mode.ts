// Bridge mode (the reference `bridge` plugin's behaviour users know): the
// host end of each veth is a port of one Linux bridge that holds the gateway
// address of every block in use; the pod's default route goes via it.
// Hairpin is on so a pod reaches itself through a Service VIP.
import {
  addAddress,
  addRoute,
  configureLink,
  ensureBridge,
  linkByName,
  listAddresses,
  listRoutes,
  setHairpin,
  setLinkUp,
  setMtu,
} from '../netlink/index.ts';
import { CniCode, CniError } from './errors.ts';
import { defaultDst, prefixOf } from './dataplane.ts';
import type { AttachContext, Mode, Wiring } from './dataplane.ts';

export const bridgeMode: Mode = {
  async attach(ctx: AttachContext): Promise<Wiring> {
    const { conf, host, pod, hostVeth, podIf, allocs } = ctx;
    const br = await ensureBridge(host, conf.bridge, conf.mtu);
    // The bridge routes the node's traffic to its pods: made when the first
    // pod got a smaller MTU (a tunnel over a 1500-byte underlay that later
    // became 9000), it would refuse every packet bigger than that to later
    // pods. Raised, never lowered: older pods keep their own, smaller, MTU.
    if (br.mtu < conf.mtu) await setMtu(host, br.index, conf.mtu);
    // The gateway address stays on the bridge for every later pod of the
    // block: it is shared, so it is never undone per pod.
    for (const a of allocs) {
      await addAddress(host, br.index, `${a.gateway}/${prefixOf(a.address)}`, { noDad: a.family === 6 });
    }
    await configureLink(host, hostVeth.index, { master: br.index, alias: ctx.alias, up: true });
    // After the master: the bridge port (and its IFLA_PROTINFO) exists only then.
    if (conf.hairpinMode) await setHairpin(host, hostVeth.index, true);

    await setLinkUp(pod, podIf.index, true);
    for (const a of allocs) {
      await addAddress(pod, podIf.index, a.address, { exclusive: true, noDad: a.family === 6 });
    }
    for (const a of allocs) {
      await addRoute(pod, { dst: defaultDst(a), gateway: a.gateway, oif: podIf.index });
    }
    const bridgeNow = (await linkByName(host, conf.bridge)) ?? br;
    return {
      hostInterfaces: [{ name: conf.bridge, mac: bridgeNow.mac }],
      ips: allocs.map((a) => ({ address: a.address, gateway: a.gateway })),
      routes: allocs.map((a) => ({ dst: defaultDst(a), gw: a.gateway })),
    };
  },

  async check(ctx: AttachContext): Promise<void> {
    const { conf, host, pod, hostVeth, podIf, allocs } = ctx;
    const br = await linkByName(host, conf.bridge);
    if (!br) throw new CniError(CniCode.checkFailed, `bridge ${conf.bridge} is missing`);
    if (hostVeth.master !== br.index) throw new CniError(CniCode.checkFailed, `${hostVeth.name} is not a port of ${conf.bridge}`);
    const bridgeAddrs = new Set((await listAddresses(host, br.index)).map((a) => a.cidr));
    const podAddrs = new Set((await listAddresses(pod, podIf.index)).map((a) => a.cidr));
    const routes = await listRoutes(pod);
    for (const a of allocs) {
      const gw = `${a.gateway}/${prefixOf(a.address)}`;
      if (!bridgeAddrs.has(gw)) throw new CniError(CniCode.checkFailed, `gateway ${gw} is not on ${conf.bridge}`);
      if (!podAddrs.has(a.address)) throw new CniError(CniCode.checkFailed, `${a.address} is not on ${podIf.name} in the pod`);
      const dst = defaultDst(a);
      if (!routes.some((r) => r.dst === dst && r.gateway === a.gateway && r.oif === podIf.index)) {
        throw new CniError(CniCode.checkFailed, `the pod has no default route via ${a.gateway} on ${podIf.name}`);
      }
    }
  },
};
