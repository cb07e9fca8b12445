// Inside User-Mode Linux (the host kernel has no ipip): IPIP mode in the
// tunnel lab (tunnel-lab.ts), and the switch between every mode. Run by
// ipip-uml.test.ts, which builds dist/ first; this script installs the CNI
// launcher into the guest's own /tmp.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../../src/base/log.ts';
import { installCni } from '../../../src/cni/install.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { removeNodeRoutes } from '../../../src/routes/cleanup.ts';
import { knownRouteModes } from '../../../src/routes/modes.ts';
import { NetlinkRouteTable } from '../../../src/routes/netlink-route-table.ts';
import { Lab, eventually } from '../../helpers/netns.ts';
import { node } from '../../helpers/objects.ts';
import { runScenarios, scenario } from '../../helpers/uml-guest.ts';
import { established, nodeYaml, startAgent } from '../bgp/bgp-lab.ts';
import { addPod, buildTunnelLab, delta, dfPing, routerCounts, startRoutes } from './tunnel-lab.ts';
import type { LabNode, TunnelLab } from './tunnel-lab.ts';

// Guest processes start ~4x slower than on the host.
const SLOW = 40_000;

const dir = mkdtempSync('/tmp/netlet-ipip-');
const { plugin } = installCni({ binDir: join(dir, 'bin'), confDir: join(dir, 'net.d'), cacheDir: join(dir, 'cache') });
const lab = new Lab('ip');
const store = new ObjectStore();
let tl!: TunnelLab;
let n1!: LabNode, n2!: LabNode, n3!: LabNode;
let running: Array<{ stop: () => Promise<void> }> = [];
const pods: Record<string, Awaited<ReturnType<typeof addPod>>> = {};

async function runMode(mode: string, encapsulation?: 'always' | 'cross-subnet'): Promise<void> {
  for (const r of running) await r.stop();
  running = [];
  for (const n of [n1, n2, n3]) running.push(await startRoutes(store, n, mode, encapsulation ? { encapsulation } : {}));
}
const routeTo = async (from: LabNode, to: LabNode) => (await from.ns.ip('route', 'show', to.podCIDR)).trim();
const tunl0 = (n: LabNode) => n.ns.ip('-d', 'addr', 'show', 'dev', 'tunl0');

scenario('ipip: tunl0 and the routes through it', async () => {
  tl = await buildTunnelLab(lab, 'iptables-legacy');
  ({ n1, n2, n3 } = tl.nodes);
  for (const n of [n1, n2, n3]) store.upsert(node(n.name, { internalIPs: [n.ip], podCIDRs: [n.podCIDR] }));
  store.markSynced('Node');
  store.markSynced('IPAMBlock');
  await runMode('ipip');
  await eventually(async () => (await routeTo(n1, n2)).includes('tunl0') && (await routeTo(n2, n1)).includes('tunl0') && (await routeTo(n3, n2)).includes('tunl0'), SLOW);
  assert.equal(await routeTo(n1, n2), '10.246.2.0/24 via 192.168.42.20 dev tunl0 proto 88 onlink');
  assert.equal(await routeTo(n1, n3), '10.246.3.0/24 via 192.168.41.30 dev tunl0 proto 88 onlink', 'always: the same-subnet node too');
  const dev = await tunl0(n1);
  assert.match(dev, /mtu 1480 /, 'MTU underlay − 20');
  assert.match(dev, /alias netlet/, "marked as netlet's");
  assert.match(dev, /inet 10\.246\.1\.0\/32/, 'the tunnel address from the node\'s pod CIDR');
});

scenario('ipip: pod → pod across subnets with full-size DF packets', async () => {
  pods.p1 = await addPod(lab, plugin, dir, n1, 'p1');
  pods.p2 = await addPod(lab, plugin, dir, n2, 'p2');
  pods.p3 = await addPod(lab, plugin, dir, n3, 'p3');
  assert.deepEqual([pods.p1.mtu, pods.p2.mtu, pods.p3.mtu], [1480, 1480, 1480], 'pods get the tunnel MTU');
  const before = await routerCounts(tl);
  assert.ok(await dfPing(pods.p1.ns, pods.p2.ip, 1480 - 28), 'DF ping 1452 + 28 p1 → p2');
  assert.ok(await dfPing(pods.p2.ns, pods.p1.ip, 1480 - 28), 'and back');
  const seen = delta(before, await routerCounts(tl));
  assert.ok(seen.routed.ipip >= 2 && seen.routed.plain === 0, `the router saw IP protocol 4 only: ${JSON.stringify(seen)}`);
});

scenario('direct: across subnets fails; tunl0 is left down, bare and unmarked', async () => {
  await runMode('direct');
  await eventually(async () => !/alias netlet/.test(await tunl0(n1)) && !/alias netlet/.test(await tunl0(n2)), SLOW);
  const dev = await tunl0(n1);
  assert.doesNotMatch(dev, /inet /, 'no address left on tunl0');
  assert.doesNotMatch(dev.split('\n')[0], /[<,]UP[,>]/, 'tunl0 is down');
  assert.equal(await routeTo(n1, n2), '', 'no route to the other subnet');
  assert.ok(!(await dfPing(pods.p1.ns, pods.p2.ip, 56)), 'p1 → p2 fails in direct mode');
});

scenario('ipip cross-subnet: plain to the same subnet, tunl0 to the other', async () => {
  await runMode('ipip', 'cross-subnet');
  await eventually(async () => (await routeTo(n1, n2)).includes('tunl0'), SLOW);
  assert.match(await routeTo(n1, n3), /^10\.246\.3\.0\/24 via 192\.168\.41\.30 dev \S+ proto 88$/, 'plain route to n3');
  const before = await routerCounts(tl);
  assert.ok(await dfPing(pods.p1.ns, pods.p3.ip, 1480 - 28), 'p1 → p3');
  assert.ok(await dfPing(pods.p1.ns, pods.p2.ip, 1480 - 28), 'p1 → p2');
  const seen = delta(before, await routerCounts(tl));
  assert.ok(seen.bridged.plain >= 1 && seen.bridged.ipip === 0, `n3 got plain pod packets, no IPIP: ${JSON.stringify(seen)}`);
  assert.ok(seen.routed.ipip >= 2 && seen.routed.plain === 0, `between subnets only IPIP: ${JSON.stringify(seen)}`);
});

scenario('a node that leaves loses its route', async () => {
  store.remove('Node', 'n2');
  await eventually(async () => (await routeTo(n1, n2)) === '', SLOW);
  store.upsert(node('n2', { internalIPs: [n2.ip], podCIDRs: [n2.podCIDR] }));
  await eventually(async () => (await routeTo(n1, n2)).includes('tunl0'), SLOW);
});

scenario('underlay MTU 9000: tunl0 8980, pods 8980, DF packets cross', async () => {
  for (const l of tl.links) await l.ns.ip('link', 'set', l.dev, 'mtu', '9000');
  for (const n of [n1, n2]) store.upsert(node(n.name, { internalIPs: [n.ip], podCIDRs: [n.podCIDR], labels: { mtu: '9000' } }));
  await eventually(async () => /mtu 8980 /.test(await tunl0(n1)) && /mtu 8980 /.test(await tunl0(n2)), SLOW);
  const q1 = await addPod(lab, plugin, dir, n1, 'q1');
  const q2 = await addPod(lab, plugin, dir, n2, 'q2');
  assert.deepEqual([q1.mtu, q2.mtu], [8980, 8980]);
  assert.ok(await dfPing(q1.ns, q2.ip, 8980 - 28), 'DF ping 8952 + 28');
});

scenario('direct → vxlan → ipip → direct leaves no device behind', async () => {
  await runMode('vxlan');
  await eventually(async () => (await routeTo(n1, n2)).includes('vxlan.netlet'), SLOW);
  assert.ok(await dfPing(pods.p1.ns, pods.p2.ip, 56), 'vxlan works here too');
  await runMode('ipip');
  await eventually(async () => (await routeTo(n1, n2)).includes('tunl0'), SLOW);
  await eventually(async () => !(await n1.ns.ip('link', 'show')).includes('vxlan'), SLOW);
  await runMode('direct');
  await eventually(async () => !/alias netlet/.test(await tunl0(n1)), SLOW);
  for (const n of [n1, n2, n3]) {
    assert.doesNotMatch(await n.ns.ip('link', 'show'), /vxlan/, `${n.name}: no VXLAN device`);
    assert.doesNotMatch(await tunl0(n), /inet |alias netlet/, `${n.name}: tunl0 bare`);
    assert.doesNotMatch(await n.ns.ip('route', 'show', 'proto', '88'), /tunl0|vxlan/, `${n.name}: no tunnel route`);
  }
});

scenario('netlet cleanup undoes tunl0', async () => {
  await runMode('ipip');
  await eventually(async () => /alias netlet/.test(await tunl0(n1)), SLOW);
  for (const r of running) await r.stop();
  running = [];
  const netnsPath = `/var/run/netns/${n1.ns.name}`;
  const table = new NetlinkRouteTable(netnsPath);
  try {
    await removeNodeRoutes(silentLogger, table, await knownRouteModes({ netnsPath }));
  } finally {
    table.close();
  }
  assert.doesNotMatch(await tunl0(n1), /inet |alias netlet/);
  assert.equal((await n1.ns.ip('route', 'show', 'proto', '88')).trim(), '');
});

// Calico's IPIP + BGP mode: no store routes at all; each node learns the
// others' podCIDRs over the iBGP mesh (across the router, a multi-hop TCP
// session) and routes them through tunl0 because each next hop is a node.
scenario('ipip + bgp: learned routes via tunl0, pods ping across subnets', async () => {
  for (const r of running) await r.stop();
  running = [];
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests, { recursive: true });
  writeFileSync(join(manifests, 'nodes.yaml'), [n1, n2, n3].map((n) => `${nodeYaml(n.name, n.ip)}spec: {podCIDRs: ["${n.podCIDR}"]}\n`).join('---\n'));
  const teardowns: Array<() => void> = [];
  const config = 'bgp:\n  enabled: true\nroutes:\n  mode: ipip';
  const agents = [n1, n2, n3].map((n) => startAgent({ teardown: (fn) => teardowns.push(fn) }, lab, n.ns, dir, { node: n.name, manifests, config }));
  try {
    for (const a of agents) await established(a, 2, 60_000);
    const learned = (n: LabNode) => n.ns.ip('route', 'show', 'proto', 'bgp');
    await eventually(async () => (await learned(n1)).split('\n').filter((l) => l.includes('tunl0')).length === 2, SLOW);
    const r1 = await learned(n1);
    assert.match(r1, /^10\.246\.2\.0\/24 via 192\.168\.42\.20 dev tunl0 onlink/m, `n1 → n2 through tunl0:\n${r1}`);
    assert.match(r1, /^10\.246\.3\.0\/24 via 192\.168\.41\.30 dev tunl0 onlink/m, `always: n3 too:\n${r1}`);
    assert.equal((await n1.ns.ip('route', 'show', 'proto', '88')).includes('10.246.2.0'), false, 'no store route to n2');
    await eventually(async () => (await learned(n2)).includes('10.246.1.0/24 via 192.168.41.10 dev tunl0'), SLOW);
    assert.match(await tunl0(n1), /alias netlet/);
    const before = await routerCounts(tl);
    assert.ok(await dfPing(pods.p1.ns, pods.p2.ip, 1480 - 28), 'DF ping p1 → p2 over the learned route');
    assert.ok(await dfPing(pods.p2.ns, pods.p1.ip, 1480 - 28), 'and back');
    const seen = delta(before, await routerCounts(tl));
    assert.ok(seen.routed.ipip >= 2 && seen.routed.plain === 0, `the router saw IP protocol 4 only: ${JSON.stringify(seen)}`);
  } finally {
    for (const a of agents) a.child.kill('SIGTERM');
    await Promise.all(agents.map((a) => (a.child.exitCode === null ? new Promise((r) => a.child.once('exit', r)) : undefined)));
    for (const fn of teardowns) fn();
  }
}, 240_000);

try {
  process.exitCode = await runScenarios();
} finally {
  for (const r of running) await r.stop();
  await lab.cleanup();
}
