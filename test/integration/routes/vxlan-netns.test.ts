// VXLAN mode against the real kernel (tunnel-lab.ts: nodes in two subnets
// behind a router that does not route pod addresses). Pods attached by the
// real netlet-cni reach each other across the subnets in vxlan mode and not
// in direct mode; cross-subnet mode tunnels only to the node in the other
// subnet; full-size DF packets cross at the MTU the plugin gave the pods
// (underlay 1500, then 9000); a node that leaves takes its route,
// neighbour and FDB entry with it; switching modes and `netlet cleanup`
// leave no device behind.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/base/log.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { removeNodeRoutes } from '../../../src/routes/cleanup.ts';
import { knownRouteModes } from '../../../src/routes/modes.ts';
import { NetlinkRouteTable } from '../../../src/routes/netlink-route-table.ts';
import { derivedVtepMac } from '../../../src/routes/vtep-mac.ts';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { node } from '../../helpers/objects.ts';
import { installPlugin, runPlugin } from '../cni/plugin-harness.ts';
import { addPod, buildTunnelLab, delta, dfPing, routerCounts, startRoutes } from './tunnel-lab.ts';
import type { LabNode } from './tunnel-lab.ts';

const VX = 'vxlan.netlet';

t.test('vxlan mode across subnets', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const lab = new Lab('vx');
  t.teardown(() => lab.cleanup());
  const { plugin, cleanup: removePlugin } = installPlugin();
  t.teardown(removePlugin);
  const dataDir = mkdtempSync(join(tmpdir(), 'netlet-vx-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const tl = await buildTunnelLab(lab);
  const { nodes, links } = tl;
  const { n1, n2, n3 } = nodes;

  const store = new ObjectStore();
  for (const n of [n1, n2, n3]) store.upsert(node(n.name, { internalIPs: [n.ip], podCIDRs: [n.podCIDR] }));
  store.markSynced('Node');
  store.markSynced('IPAMBlock');

  let running: Array<{ stop: () => Promise<void>; comp: { idle(): Promise<void> } }> = [];
  const runMode = async (mode: string, encapsulation?: 'always' | 'cross-subnet') => {
    for (const r of running) await r.stop();
    running = [];
    for (const n of [n1, n2, n3]) running.push(await startRoutes(store, n, mode, encapsulation ? { encapsulation } : {}));
  };
  t.teardown(async () => {
    for (const r of running) await r.stop();
  });
  const routeTo = async (from: LabNode, to: LabNode) => (await from.ns.ip('route', 'show', to.podCIDR)).trim();
  const devices = async (n: LabNode) => (await n.ns.ip('-o', 'link', 'show')).split('\n').filter((l) => /vxlan/.test(l));

  // --- vxlan, always: the devices, entries and routes, then pods across subnets.
  await runMode('vxlan');
  await eventually(async () => (await routeTo(n1, n2)).includes(VX) && (await routeTo(n2, n1)).includes(VX) && (await routeTo(n3, n2)).includes(VX), 15_000);
  const detail = await n1.ns.ip('-d', 'link', 'show', VX);
  t.match(detail, /vxlan id 4096 local 192\.168\.41\.10 dev \S+ srcport \d+ \d+ dstport 4789 nolearning/, 'VNI 4096, bound to the InternalIP and its device, port 4789, learning off');
  t.match(detail, new RegExp(`mtu 1450 .*link/ether ${derivedVtepMac('n1')}`, 's'), 'MTU underlay − 50, MAC derived from the node name');
  t.match(await n1.ns.ip('addr', 'show', 'dev', VX), /inet 10\.246\.1\.0\/32/, "the tunnel address is the node's pod CIDR network address");
  t.equal(await routeTo(n1, n2), `10.246.2.0/24 via 10.246.2.0 dev ${VX} proto 88 onlink`, "n1 → n2's pods via n2's tunnel address, onlink");
  t.equal(await routeTo(n1, n3), `10.246.3.0/24 via 10.246.3.0 dev ${VX} proto 88 onlink`, 'always: n3 too, though on the same subnet');
  t.match(await n1.ns.ip('neigh', 'show', 'dev', VX), new RegExp(`10\\.246\\.2\\.0 lladdr ${derivedVtepMac('n2')} PERMANENT`), "a permanent neighbour: n2's tunnel address → n2's MAC");
  t.match(await n1.ns.exec('bridge', ['fdb', 'show', 'dev', VX]), new RegExp(`${derivedVtepMac('n2')} dst 192\\.168\\.42\\.20 self permanent`), "a permanent FDB entry: n2's MAC → n2's InternalIP");

  const p1 = await addPod(lab, plugin, dataDir, n1, 'p1');
  const p2 = await addPod(lab, plugin, dataDir, n2, 'p2');
  const p3 = await addPod(lab, plugin, dataDir, n3, 'p3');
  t.same([p1.mtu, p2.mtu, p3.mtu], [1450, 1450, 1450], 'netlet-cni gave each pod the tunnel MTU (1500 − 50) without an mtu in its config');
  let before = await routerCounts(tl);
  t.ok(await dfPing(p1.ns, p2.ip, 1450 - 28), 'pod → pod across subnets: a DF ping of the largest size the pod MTU allows (1422 + 28) gets through');
  t.ok(await dfPing(p2.ns, p1.ip, 1450 - 28), 'and back');
  let seen = delta(before, await routerCounts(tl));
  t.ok(seen.routed.vxlan >= 2, `the router carried it as VXLAN (UDP 4789): ${JSON.stringify(seen)}`);
  t.equal(seen.routed.plain, 0, 'and saw no plain pod packet');
  before = await routerCounts(tl);
  t.ok(await dfPing(p1.ns, p3.ip, 1450 - 28), 'pod → pod inside subnet A, tunnelled too');
  seen = delta(before, await routerCounts(tl));
  t.ok(seen.bridged.vxlan >= 2 && seen.bridged.plain === 0, `always: subnet A's link saw only VXLAN: ${JSON.stringify(seen)}`);

  // --- Resync: a stale entry on netlet's device goes; an entry on another device stays.
  await n1.ns.ip('neigh', 'add', '10.246.9.0', 'lladdr', '66:00:00:00:00:09', 'dev', VX, 'nud', 'permanent');
  await n1.ns.exec('bridge', ['fdb', 'append', '66:00:00:00:00:09', 'dev', VX, 'dst', '192.168.42.99', 'self', 'permanent']);
  await n1.ns.ip('neigh', 'add', '192.168.41.99', 'lladdr', '02:00:00:00:00:99', 'dev', n1.uplink, 'nud', 'permanent');
  store.upsert(node('n1', { internalIPs: [n1.ip], podCIDRs: [n1.podCIDR], labels: { touched: '1' } }));
  await eventually(async () => !(await n1.ns.ip('neigh', 'show', 'dev', VX)).includes('10.246.9.0'));
  await eventually(async () => !(await n1.ns.exec('bridge', ['fdb', 'show', 'dev', VX])).includes('66:00:00:00:00:09'));
  t.pass('a resync removed the neighbour and FDB entry no peer asks for');
  t.match(await n1.ns.ip('neigh', 'show', 'dev', n1.uplink), /192\.168\.41\.99 lladdr 02:00:00:00:00:99 PERMANENT/, "a neighbour on another device is not netlet's and stays");

  // --- direct: across subnets it cannot work; the VXLAN devices go.
  await runMode('direct');
  await eventually(async () => (await devices(n1)).length === 0 && (await devices(n2)).length === 0, 15_000);
  t.pass('vxlan → direct: no VXLAN device left on any node');
  t.equal(await routeTo(n1, n3), `10.246.3.0/24 via ${n3.ip} dev ${n1.uplink} proto 88`, 'direct: a plain route to the node on the same subnet');
  t.equal(await routeTo(n1, n2), '', 'and none to the node behind the router (its InternalIP is no neighbour)');
  t.notOk(await dfPing(p1.ns, p2.ip, 56), 'pod → pod across subnets fails in direct mode');
  t.ok(await dfPing(p1.ns, p3.ip, 56), 'pod → pod on one subnet works in direct mode');

  // --- vxlan, cross-subnet: plain to n3, tunnel to n2.
  await runMode('vxlan', 'cross-subnet');
  await eventually(async () => (await routeTo(n1, n2)).includes(VX), 15_000);
  t.equal(await routeTo(n1, n3), `10.246.3.0/24 via ${n3.ip} dev ${n1.uplink} proto 88`, 'cross-subnet: n3 (same subnet) gets a plain route');
  t.equal(await routeTo(n1, n2), `10.246.2.0/24 via 10.246.2.0 dev ${VX} proto 88 onlink`, 'and n2 (other subnet) the tunnel');
  t.notMatch(await n1.ns.ip('neigh', 'show', 'dev', VX), /10\.246\.3\.0/, 'no neighbour entry for the plainly routed n3');
  before = await routerCounts(tl);
  t.ok(await dfPing(p1.ns, p3.ip, 1450 - 28), 'pod → pod in subnet A');
  t.ok(await dfPing(p1.ns, p2.ip, 1450 - 28), 'pod → pod across subnets');
  seen = delta(before, await routerCounts(tl));
  t.ok(seen.bridged.plain >= 2 && seen.bridged.vxlan === 0, `subnet A carried plain pod packets, no VXLAN: ${JSON.stringify(seen)}`);
  t.ok(seen.routed.vxlan >= 2 && seen.routed.plain === 0, `between subnets only VXLAN: ${JSON.stringify(seen)}`);

  // --- A node leaves: its route, neighbour and FDB entry go.
  store.remove('Node', 'n2');
  await eventually(async () => (await routeTo(n1, n2)) === '');
  t.notMatch(await n1.ns.ip('neigh', 'show', 'dev', VX), /10\.246\.2\.0/, "n2's neighbour entry is gone");
  t.notMatch(await n1.ns.exec('bridge', ['fdb', 'show', 'dev', VX]), /192\.168\.42\.20/, "n2's FDB entry is gone");
  store.upsert(node('n2', { internalIPs: [n2.ip], podCIDRs: [n2.podCIDR] }));
  await eventually(async () => (await routeTo(n1, n2)).includes(VX));

  // --- Underlay MTU 9000: the tunnel follows, new pods get 8950, and full-size DF packets cross.
  for (const l of links) await l.ns.ip('link', 'set', l.dev, 'mtu', '9000');
  for (const n of [n1, n2]) store.upsert(node(n.name, { internalIPs: [n.ip], podCIDRs: [n.podCIDR], labels: { mtu: '9000' } }));
  await eventually(async () => (await n1.ns.ip('link', 'show', VX)).includes('mtu 8950') && (await n2.ns.ip('link', 'show', VX)).includes('mtu 8950'));
  const q1 = await addPod(lab, plugin, dataDir, n1, 'q1');
  const q2 = await addPod(lab, plugin, dataDir, n2, 'q2');
  t.same([q1.mtu, q2.mtu], [8950, 8950], 'underlay 9000: pods get 8950');
  t.ok(await dfPing(q1.ns, q2.ip, 8950 - 28), 'a DF ping of 8922 + 28 bytes crosses the tunnel');

  // --- netlet cleanup: routes and devices go.
  for (const r of running) await r.stop();
  running = [];
  const table = new NetlinkRouteTable(`/var/run/netns/${n1.ns.name}`);
  t.teardown(() => table.close());
  await removeNodeRoutes(silentLogger, table, await knownRouteModes({ netnsPath: `/var/run/netns/${n1.ns.name}` }));
  t.same(await devices(n1), [], 'netlet cleanup removed the VXLAN devices');
  t.equal((await n1.ns.ip('route', 'show', 'proto', '88')).trim(), '', 'and every netlet route');
});

// IPv6: a second device, vxlan-v6.netlet, over the IPv6 underlay (70 bytes of
// overhead), beside the IPv4 one; dual-stack pods take the smaller MTU.
t.test('vxlan over IPv6: vxlan-v6.netlet, dual-stack pods across subnets', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  const lab = new Lab('v6');
  t.teardown(() => lab.cleanup());
  const { plugin, cleanup: removePlugin } = installPlugin();
  t.teardown(removePlugin);
  const dataDir = mkdtempSync(join(tmpdir(), 'netlet-v6-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const router = await lab.netns('r');
  await router.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  const make = async (name: string, v4: string, v6: string, podCIDRs: string[], r4: string, r6: string): Promise<LabNode> => {
    const ns = await lab.netns(name);
    const [rIf, nIf] = await lab.link(router, ns, `${r4}/24`, `${v4}/24`);
    await router.ip('addr', 'add', `${r6}/64`, 'dev', rIf, 'nodad');
    await ns.ip('addr', 'add', `${v6}/64`, 'dev', nIf, 'nodad');
    await ns.ip('route', 'add', 'default', 'via', r4);
    await ns.ip('-6', 'route', 'add', 'default', 'via', r6);
    store.upsert(node(name, { internalIPs: [v4, v6], podCIDRs }));
    return { name, ns, ip: v4, podCIDR: podCIDRs[0], uplink: nIf };
  };
  const store = new ObjectStore();
  const n1 = await make('n1', '192.168.51.10', 'fd51::10', ['10.247.1.0/24', 'fd47:0:0:1::/64'], '192.168.51.1', 'fd51::1');
  const n2 = await make('n2', '192.168.52.20', 'fd52::20', ['10.247.2.0/24', 'fd47:0:0:2::/64'], '192.168.52.1', 'fd52::1');
  store.markSynced('Node');
  store.markSynced('IPAMBlock');
  const running = [await startRoutes(store, n1, 'vxlan'), await startRoutes(store, n2, 'vxlan')];
  t.teardown(async () => {
    for (const r of running) await r.stop();
  });
  const v6Route = (n: LabNode, cidr: string) => n.ns.ip('-6', 'route', 'show', cidr);
  await eventually(async () => (await v6Route(n1, 'fd47:0:0:2::/64')).includes('vxlan-v6.netlet') && (await v6Route(n2, 'fd47:0:0:1::/64')).includes('vxlan-v6.netlet'), 15_000);
  const detail = await n1.ns.ip('-d', 'link', 'show', 'vxlan-v6.netlet');
  t.match(detail, /mtu 1430 /, 'IPv6 VXLAN: MTU underlay − 70');
  t.match(detail, /vxlan id 4096 local fd51::10 dev \S+ .*dstport 4789 nolearning/s, 'bound to the IPv6 InternalIP');
  t.match(await v6Route(n1, 'fd47:0:0:2::/64'), /fd47:0:0:2::\/64 via fd47:0:0:2:: dev vxlan-v6\.netlet proto 88 metric 1024 onlink/, "route via n2's IPv6 tunnel address");
  t.match(await n1.ns.exec('bridge', ['fdb', 'show', 'dev', 'vxlan-v6.netlet']), new RegExp(`${derivedVtepMac('n2')} dst fd52::20 self permanent`), 'FDB entry to the IPv6 InternalIP');

  const addDual = async (n: LabNode, name: string, cidrs: string[]) => {
    const ns = await lab.netns(name);
    const reply = await runPlugin(plugin, n.ns.name, {
      command: 'ADD',
      containerID: `c-${name}`,
      netns: `/var/run/netns/${ns.name}`,
      ifname: 'eth0',
      conf: { cniVersion: '1.1.0', name: 'tunnels6', type: 'netlet-cni', nodeName: n.name, ipam: { type: 'netlet-ipam', mode: 'podCIDR', podCIDRs: cidrs, dataDir: `${dataDir}/${n.name}` } },
    });
    if (reply.code !== 0) throw new Error(`ADD ${name}: ${JSON.stringify(reply.json)}`);
    const ips = (reply.json.ips as Array<{ address: string }>).map((i) => i.address.split('/')[0]);
    const mtu = reply.json.interfaces.find((i: { sandbox?: string }) => i.sandbox).mtu as number;
    return { ns, v6: ips.find((i) => i.includes(':'))!, mtu };
  };
  const p1 = await addDual(n1, 'p1', ['10.247.1.0/24', 'fd47:0:0:1::/64']);
  const p2 = await addDual(n2, 'p2', ['10.247.2.0/24', 'fd47:0:0:2::/64']);
  t.same([p1.mtu, p2.mtu], [1430, 1430], 'dual-stack pods take the smaller tunnel MTU (IPv6 VXLAN: 1500 − 70)');
  await eventually(async () => /1 received/.test(await p1.ns.exec('ping', ['-6', '-c', '1', '-W', '1', p2.v6], { allowFail: true })), 10_000);
  const big = await p1.ns.exec('ping', ['-6', '-c', '1', '-W', '2', '-M', 'do', '-s', String(1430 - 48), p2.v6], { allowFail: true });
  t.match(big, /1 received/, 'pod → pod over IPv6 across subnets: a DF ping of 1382 + 48 bytes gets through');

  // A Node whose IPv6 InternalIP is on no device of the node: IPv6 prefixes are skipped, IPv4 keeps working.
  store.upsert(node('n1', { internalIPs: ['192.168.51.10', 'fd51::99'], podCIDRs: ['10.247.1.0/24', 'fd47:0:0:1::/64'] }));
  await eventually(async () => !(await v6Route(n1, 'fd47:0:0:2::/64')).includes('vxlan-v6.netlet'));
  t.match(await n1.ns.ip('route', 'show', '10.247.2.0/24'), /via 10\.247\.2\.0 dev vxlan\.netlet/, 'a bad IPv6 InternalIP costs IPv6 its routes, not IPv4');
});
