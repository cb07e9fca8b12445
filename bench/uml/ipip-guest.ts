// Inside User-Mode Linux, for bench/route-tunnels-uml.ts: pod → pod
// throughput through netlet's IPIP (tunl0) beside the same tunnel made by
// hand with `ip` (a second ipip device, local address set, so both exist at
// once and only the route picks one), measured in alternation; and netlet's
// VXLAN in the same boot. The guest has one CPU: compare rows with each
// other, not with the host's figures.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { installCni } from '../../src/cni/install.ts';
import { ObjectStore } from '../../src/k8s/store.ts';
import { Lab, eventually } from '../../test/helpers/netns.ts';
import { node } from '../../test/helpers/objects.ts';
import { runScenarios, scenario } from '../../test/helpers/uml-guest.ts';
import { addPod, buildTunnelLab, startRoutes } from '../../test/integration/routes/tunnel-lab.ts';
import type { LabNode } from '../../test/integration/routes/tunnel-lab.ts';
import { parseIperf3Json } from '../lib/iperf3.ts';

const seconds = process.env.BENCH_SECONDS ?? '3';
const repeat = Number(process.env.BENCH_REPEAT ?? '3');
const dir = mkdtempSync('/tmp/netlet-ipip-bench-');
const { plugin } = installCni({ binDir: join(dir, 'bin'), confDir: join(dir, 'net.d'), cacheDir: join(dir, 'cache') });
const lab = new Lab('ib');
const store = new ObjectStore();
let running: Array<{ stop: () => Promise<void> }> = [];

scenario('ipip and vxlan throughput', async (s) => {
  const tl = await buildTunnelLab(lab, 'iptables-legacy');
  const { n1, n2 } = tl.nodes;
  for (const n of [n1, n2]) store.upsert(node(n.name, { internalIPs: [n.ip], podCIDRs: [n.podCIDR] }));
  store.markSynced('Node');
  store.markSynced('IPAMBlock');
  const runMode = async (mode: string) => {
    for (const r of running) await r.stop();
    running = [];
    for (const n of [n1, n2]) running.push(await startRoutes(store, n, mode));
  };
  const routeTo = async (from: LabNode, to: LabNode) => (await from.ns.ip('route', 'show', to.podCIDR)).trim();
  await runMode('ipip');
  await eventually(async () => (await routeTo(n1, n2)).includes('tunl0') && (await routeTo(n2, n1)).includes('tunl0'), 40_000);
  const p1 = await addPod(lab, plugin, dir, n1, 'p1');
  const p2 = await addPod(lab, plugin, dir, n2, 'p2');
  lab.track(p2.ns.spawn('iperf3', ['-s', '-p', '5201']));
  await new Promise((r) => setTimeout(r, 1500));
  const iperf = async () => parseIperf3Json(await p1.ns.exec('iperf3', ['-c', p2.ip, '-p', '5201', '-t', seconds, '-O', '1', '-J'])).gbps;

  // Stopped, the components leave their state and cannot put their route back while the floor is measured.
  for (const r of running) await r.stop();
  running = [];
  for (const me of [n1, n2]) {
    await me.ns.ip('link', 'add', 'iphand', 'type', 'ipip', 'local', me.ip);
    await me.ns.ip('link', 'set', 'iphand', 'mtu', '1480', 'up');
    await me.ns.ip('addr', 'add', `${me.podCIDR.split('/')[0]}/32`, 'dev', 'iphand');
  }
  const through = async (dev: string) => {
    for (const [me, peer] of [[n1, n2], [n2, n1]]) await me.ns.ip('route', 'replace', peer.podCIDR, 'via', peer.ip, 'dev', dev, 'onlink', 'proto', '88');
  };
  const netlet: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < repeat; i++) {
    await through('tunl0');
    netlet.push(await iperf());
    await through('iphand');
    floor.push(await iperf());
  }
  for (const n of [n1, n2]) await n.ns.ip('link', 'del', 'iphand');
  await runMode('vxlan');
  await eventually(async () => (await routeTo(n1, n2)).includes('vxlan.netlet') && (await routeTo(n2, n1)).includes('vxlan.netlet'), 40_000);
  const vxlan: number[] = [];
  for (let i = 0; i < repeat; i++) vxlan.push(await iperf());
  s.data.ipip = netlet;
  s.data.ipipFloor = floor;
  s.data.vxlan = vxlan;
  s.data.podMtu = p1.mtu;
});

try {
  process.exitCode = await runScenarios();
} finally {
  for (const r of running) await r.stop();
  await lab.cleanup();
}
