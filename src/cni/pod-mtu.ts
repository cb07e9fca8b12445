// The pod MTU when the network config gives none: the MTU of the tunnel the
// pod's packets will cross, read from the device itself. The agent's route
// mode sets each tunnel device's MTU to the underlay's minus the tunnel's
// overhead (routes/tunnel-names.ts), so a pod with that MTU sends packets
// that cross without fragmentation or loss, whatever the underlay (1500,
// 9000). Reading the device, not a file the agent writes, keeps it right per
// network namespace and needs no path in the config. With several tunnels
// up (VXLAN for both families), the smallest wins: one pod MTU serves both.
import { linkByName } from '../netlink/links.ts';
import type { Rtnl } from '../netlink/socket.ts';
import { IPIP_ALIAS, IPIP_DEVICE, VXLAN_DEVICE } from '../routes/tunnel-names.ts';
import { DEFAULTS } from './config.ts';

export async function podMtu(host: Rtnl): Promise<number> {
  let mtu = 0;
  for (const name of [VXLAN_DEVICE[4], VXLAN_DEVICE[6], IPIP_DEVICE]) {
    const link = await linkByName(host, name);
    if (!link?.up) continue;
    // tunl0 exists wherever the ipip module is loaded; only netlet's (marked by its alias) says what netlet routes through.
    if (name === IPIP_DEVICE && link.alias !== IPIP_ALIAS) continue;
    if (mtu === 0 || link.mtu < mtu) mtu = link.mtu;
  }
  // No tunnel: the plugin's historical default, what a pod on a 1500-byte link needs.
  return mtu || DEFAULTS.mtu;
}
