// The topology of the tunnel suites: nodes in two subnets joined by a
// router namespace that routes node addresses and nothing else (pod
// addresses are not routable there, as between racks or clouds).
//
//   subnet A 192.168.41.0/24 (a bridge in the router):  n1 .10, n3 .30
//   subnet B 192.168.42.0/24 (a veth to the router):    n2 .20
//
// Each node runs the routes component in-process on its own namespace and
// gets a pod attached by the real netlet-cni. What crosses the links is
// counted: VXLAN (UDP 4789), IPIP (IP protocol 4) and plain pod packets,
// routed by the router between the subnets, and bridged inside subnet A.
// On the host kernel nft counts both in the router (ip and bridge
// families); UML's kernel has neither nft ip tables nor br_netfilter, so
// there iptables-legacy counts in the router's raw PREROUTING (routed) and
// in n3's (what reached n3 from n1 over subnet A).
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/base/log.ts';
import type { ObjectStore } from '../../../src/k8s/store.ts';
import { RoutesComponent } from '../../../src/routes/component.ts';
import type { RouteModeOptions } from '../../../src/routes/modes.ts';
import { NetlinkRouteTable } from '../../../src/routes/netlink-route-table.ts';
import type { Lab, Netns } from '../../helpers/netns.ts';
import { runPlugin } from '../cni/plugin-harness.ts';

export const POD_CIDR = '10.246.0.0/16';

export interface LabNode {
  name: string;
  ns: Netns;
  ip: string;
  podCIDR: string;
  /** The node's interface towards the router. */
  uplink: string;
}

export interface TunnelLab {
  router: Netns;
  nodes: Record<'n1' | 'n2' | 'n3', LabNode>;
  /** Every link of the lab (router and nodes), for changing the underlay MTU. */
  links: Array<{ ns: Netns; dev: string }>;
  counters: CounterKind;
}

export type CounterKind = 'nft' | 'iptables-legacy';

export async function buildTunnelLab(lab: Lab, counters: CounterKind = 'nft'): Promise<TunnelLab> {
  const router = await lab.netns('r');
  await router.ip('link', 'add', 'br-a', 'type', 'bridge');
  await router.ip('addr', 'add', '192.168.41.1/24', 'dev', 'br-a');
  await router.ip('link', 'set', 'br-a', 'up');
  await router.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  const links: TunnelLab['links'] = [{ ns: router, dev: 'br-a' }];
  // With br_netfilter loaded (by any test on the machine), bridged frames would also pass the ip hooks
  // and be counted as routed; the sysctl exists only when the module is loaded.
  await router.exec('sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=0'], { allowFail: true });
  const make = async (name: 'n1' | 'n2' | 'n3', ip: string, podCIDR: string, subnetA: boolean): Promise<LabNode> => {
    const ns = await lab.netns(name);
    const [rIf, nIf] = await lab.link(router, ns, subnetA ? undefined : '192.168.42.1/24', `${ip}/24`);
    if (subnetA) await router.ip('link', 'set', rIf, 'master', 'br-a');
    await ns.ip('route', 'add', 'default', 'via', subnetA ? '192.168.41.1' : '192.168.42.1');
    links.push({ ns: router, dev: rIf }, { ns, dev: nIf });
    return { name, ns, ip, podCIDR, uplink: nIf };
  };
  const nodes = {
    n1: await make('n1', '192.168.41.10', '10.246.1.0/24', true),
    n2: await make('n2', '192.168.42.20', '10.246.2.0/24', false),
    n3: await make('n3', '192.168.41.30', '10.246.3.0/24', true),
  };
  if (counters === 'iptables-legacy') {
    const rules = [
      ['-p', 'udp', '--dport', '4789'],
      ['-p', '4'],
      ['-d', POD_CIDR],
    ];
    for (const ns of [router, nodes.n3.ns]) for (const r of rules) await ns.exec('iptables-legacy', ['-t', 'raw', '-A', 'PREROUTING', ...r]);
    return { router, nodes, links, counters };
  }
  await router.exec('nft', ['-f', '-'], {
    input: ['ip', 'bridge']
      .map(
        (family) => `table ${family} count {
  counter vxlan {
  }
  counter ipip {
  }
  counter plain {
  }
  chain c {
    type filter hook ${family === 'ip' ? 'prerouting' : 'forward'} priority 0; policy accept;
    udp dport 4789 counter name vxlan
    ip protocol 4 counter name ipip
    ip daddr ${POD_CIDR} counter name plain
  }
}
`,
      )
      .join(''),
  });
  return { router, nodes, links, counters };
}

export type Counts = Record<'routed' | 'bridged', Record<'vxlan' | 'ipip' | 'plain', number>>;

/** Packets the router routed between the subnets, and those bridged inside subnet A. */
export async function routerCounts(tl: TunnelLab): Promise<Counts> {
  const { router } = tl;
  const out = { routed: { vxlan: 0, ipip: 0, plain: 0 }, bridged: { vxlan: 0, ipip: 0, plain: 0 } };
  if (tl.counters === 'iptables-legacy') {
    for (const [ns, key] of [[router, 'routed'], [tl.nodes.n3.ns, 'bridged']] as const) {
      const lines = (await ns.exec('iptables-legacy', ['-t', 'raw', '-L', 'PREROUTING', '-v', '-n', '-x'])).split('\n').slice(2).filter((l) => l.trim());
      // In the order the rules were added: UDP 4789, protocol 4, pod destinations.
      [out[key].vxlan, out[key].ipip, out[key].plain] = lines.map((l) => Number(l.trim().split(/\s+/)[0]));
    }
    return out;
  }
  for (const [family, key] of [['ip', 'routed'], ['bridge', 'bridged']] as const) {
    const json = JSON.parse(await router.exec('nft', ['-j', 'list', 'counters', 'table', family, 'count'])) as { nftables: Array<{ counter?: { name: string; packets: number } }> };
    for (const e of json.nftables) if (e.counter) out[key][e.counter.name as 'vxlan'] = e.counter.packets;
  }
  return out;
}

/** Counts after minus counts before. */
export function delta(before: Counts, after: Counts): Counts {
  const d = structuredClone(after);
  for (const k of ['routed', 'bridged'] as const) for (const c of ['vxlan', 'ipip', 'plain'] as const) d[k][c] -= before[k][c];
  return d;
}

/** A routes component for `node` on its namespace, in `mode`. */
export async function startRoutes(store: ObjectStore, node: LabNode, mode: string, opts: RouteModeOptions = {}): Promise<{ comp: RoutesComponent; stop: () => Promise<void> }> {
  const netnsPath = `/var/run/netns/${node.ns.name}`;
  const table = new NetlinkRouteTable(netnsPath);
  const comp = new RoutesComponent({ log: silentLogger, store, metrics: new Registry(), nodeName: node.name }, { mode, modeOptions: { ...opts, netnsPath }, table, debounceMs: 5 });
  await comp.start();
  return {
    comp,
    stop: async () => {
      await comp.stop();
      table.close();
    },
  };
}

/** A pod namespace behind `node`, attached by netlet-cni (bridge mode, podCIDR IPAM, no mtu: the tunnel's). Returns its address and MTU. */
export async function addPod(lab: Lab, plugin: string, dataDir: string, node: LabNode, name: string): Promise<{ ns: Netns; ip: string; mtu: number }> {
  const ns = await lab.netns(name);
  const reply = await runPlugin(plugin, node.ns.name, {
    command: 'ADD',
    containerID: `c-${name}`,
    netns: `/var/run/netns/${ns.name}`,
    ifname: 'eth0',
    conf: {
      cniVersion: '1.1.0',
      name: 'tunnels',
      type: 'netlet-cni',
      nodeName: node.name,
      ipam: { type: 'netlet-ipam', mode: 'podCIDR', podCIDRs: [node.podCIDR], dataDir: `${dataDir}/${node.name}` },
    },
  });
  if (reply.code !== 0) throw new Error(`ADD ${name} on ${node.name} failed: ${JSON.stringify(reply.json)}`);
  const pod = reply.json.interfaces.find((i: { sandbox?: string }) => i.sandbox);
  return { ns, ip: (reply.json.ips[0].address as string).split('/')[0], mtu: pod.mtu };
}

/** Whether one DF ping of `size` payload bytes from `from` reaches `to`. */
export async function dfPing(from: Netns, to: string, size: number): Promise<boolean> {
  const out = await from.exec('ping', ['-c', '1', '-W', '1', '-M', 'do', '-s', String(size), to], { allowFail: true });
  return /1 received/.test(out);
}
