// Pod → pod throughput across nodes in each route mode, beside the same
// tunnel built by hand with `ip` and `bridge` (the floor: same namespaces,
// pods, bridges, MTU and VXLAN settings; only who programmed the device,
// neighbour, FDB entry and route differs), and beside direct routes; the
// VXLAN device's transmit checksum offload on and off; and the time from a
// node appearing to its route, neighbour and FDB entry being in place on
// another node.
//
// The cluster is the demo's (src/agent/demo/) under the prefix `netlet-bt`:
// netlet agents per node from a manifest folder, pods by netlet-cni, an
// iperf3 server in web-1 (node1) and the client in `client` (node2). For the
// tunnel modes the nodes sit in two subnets behind a router namespace. IPIP
// needs a kernel with ipip: where it has none, its row says so.
//
//   npx node bench/route-tunnels.ts [--seconds 3] [--repeat 5] [--latency 5] [--down]
//
// --down removes a bench cluster left by an interrupted run.

import './lib/tunnel-bench-prefix.ts';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { demoNamespaces, inNetns, run, startDetached, teardown } from '../src/agent/demo/lab.ts';
import { NODES, PODS } from '../src/agent/demo/layout.ts';
import type { DemoRouteMode } from '../src/agent/demo/layout.ts';
import { attachPods, buildTopology, kernelHasIpip, startAgents, waitForRoutes, writeManifests } from '../src/agent/demo/steps.ts';
import { Registry } from 'prom-client';
import { silentLogger } from '../src/base/log.ts';
import { convertNode } from '../src/k8s/convert/node.ts';
import { ObjectStore } from '../src/k8s/store.ts';
import { closeRtnl, linkByName, listFdb, listNeighbours, listRoutes, openRtnl } from '../src/netlink/index.ts';
import { RoutesComponent } from '../src/routes/component.ts';
import { NetlinkRouteTable } from '../src/routes/netlink-route-table.ts';
import { derivedVtepMac } from '../src/routes/vtep-mac.ts';
import { iperf3 } from './lib/iperf3.ts';
import type { IperfResult } from './lib/iperf3.ts';
import { renderTable } from './lib/markdown.ts';

const IPERF_PORT = 5201;
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, repeat: { type: 'string', default: '5' }, latency: { type: 'string', default: '5' }, down: { type: 'boolean' } },
});
const seconds = Number(values.seconds);
const repeat = Number(values.repeat);
const latencyRuns = Number(values.latency);
const log = (s: string) => process.stderr.write(`route-tunnels: ${s}\n`);
const pod = (name: string) => PODS.find((p) => p.name === name)!;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The demo cluster in `mode`, agents first (pods take the tunnel's MTU), iperf3 serving in web-1. Returns web-1's address and the manifest folder. */
async function cluster(mode: DemoRouteMode): Promise<{ web1: string; manifests: string }> {
  if ((await demoNamespaces()).length) await teardown();
  await buildTopology(mode);
  const manifests = writeManifests(new Map());
  startAgents(manifests, 'iptables', mode);
  await waitForRoutes(mode);
  const ips = await attachPods();
  writeManifests(ips);
  startDetached(pod('web-1').netns, 'iperf3-web-1', 'iperf3', ['-s', '-p', String(IPERF_PORT)]);
  return { web1: ips.get('web-1')!, manifests };
}

const once = async (web1: string): Promise<IperfResult[]> => [await iperf3(pod('client').netns, web1, IPERF_PORT, seconds)];

async function runs(web1: string): Promise<IperfResult[]> {
  const out: IperfResult[] = [];
  for (let i = 0; i < repeat; i++) out.push(await iperf3(pod('client').netns, web1, IPERF_PORT, seconds));
  return out;
}

/** Stops the agents (the only processes in the node namespaces); the kernel state they made stays. */
async function stopAgents(): Promise<void> {
  for (const n of NODES) {
    for (const pid of (await run('ip', ['netns', 'pids', n.netns])).split(/\s+/).filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
  }
}

/**
 * The floor: beside netlet's device, the same tunnel made by hand with ip
 * and bridge, as an operator would (VNI 4097 and port 4790 so both exist at
 * once; every other setting, the MTU and the tunnel addresses alike). Which
 * one carries the pods' traffic is then only the route, so netlet's and the
 * hand-built path are measured in alternation, seconds apart.
 */
async function handBuiltVxlan(): Promise<void> {
  for (const [me, peer] of [[NODES[0], NODES[1]], [NODES[1], NODES[0]]]) {
    const ip = (...args: string[]) => inNetns(me.netns, 'ip', args);
    await ip('link', 'add', 'vxlan.hand', 'type', 'vxlan', 'id', '4097', 'local', me.ip, 'dev', 'eth0', 'dstport', '4790', 'nolearning');
    await ip('link', 'set', 'vxlan.hand', 'mtu', '1450', 'address', handMac(me.name), 'up');
    await ip('addr', 'add', `${tunnelOf(me)}/32`, 'dev', 'vxlan.hand');
    await ip('neigh', 'add', tunnelOf(peer), 'lladdr', handMac(peer.name), 'dev', 'vxlan.hand', 'nud', 'permanent');
    await inNetns(me.netns, 'bridge', ['fdb', 'append', handMac(peer.name), 'dev', 'vxlan.hand', 'dst', peer.ip, 'self', 'permanent']);
  }
}

const tunnelOf = (n: (typeof NODES)[number]) => n.podCIDR.split('/')[0];
const handMac = (name: string) => derivedVtepMac(`${name}-hand`);

/** Sends each node's traffic for the other's pods through `dev` (netlet's route, as netlet wrote it, or the hand-built one). */
async function routeThrough(dev: 'vxlan.netlet' | 'vxlan.hand'): Promise<void> {
  for (const [me, peer] of [[NODES[0], NODES[1]], [NODES[1], NODES[0]]]) {
    await inNetns(me.netns, 'ip', ['route', 'replace', peer.podCIDR, 'via', tunnelOf(peer), 'dev', dev, 'onlink', 'proto', '88']);
  }
}

async function setTxChecksum(on: boolean): Promise<void> {
  for (const n of NODES) await inNetns(n.netns, 'ethtool', ['-K', 'vxlan.netlet', 'tx', on ? 'on' : 'off']);
}

/**
 * From a Node manifest landing in the agents' folder to node1 holding the
 * route, the permanent neighbour and the FDB entry for it: the whole user-
 * visible path (folder watch, store, debounce, netlink). Observed by polling
 * node1 with ip/bridge every few ms, which adds a few ms.
 */
async function programmingLatency(manifests: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < latencyRuns; i++) {
    const name = `bench-node-${i}`;
    const cidr = `10.244.${100 + i}.0/24`;
    const tunnel = `10.244.${100 + i}.0`;
    const file = `${manifests}/${name}.json`;
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      spec: { podCIDR: cidr, podCIDRs: [cidr] },
      status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${100 + i}` }], conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const mac = derivedVtepMac(name);
    const t0 = performance.now();
    writeFileSync(file, JSON.stringify(node));
    for (;;) {
      const [route, neigh, fdb] = await Promise.all([
        inNetns(NODES[0].netns, 'ip', ['route', 'show', cidr]),
        inNetns(NODES[0].netns, 'ip', ['neigh', 'show', tunnel, 'dev', 'vxlan.netlet']),
        inNetns(NODES[0].netns, 'bridge', ['fdb', 'show', 'dev', 'vxlan.netlet']),
      ]);
      if (route.includes('vxlan.netlet') && neigh.includes(mac) && fdb.includes(mac)) break;
      if (performance.now() - t0 > 20_000) throw new Error(`${name}: not programmed within 20 s`);
    }
    out.push(performance.now() - t0);
    await run('rm', [file]);
  }
  return out;
}

/**
 * The routes component alone, in-process on node1 (the agents are stopped by
 * then): from a Node with its podCIDR entering the store (what a watch event
 * does) to the route, neighbour and FDB entry being in node1's kernel,
 * observed over netlink in a tight loop. Its 50 ms debounce is the default.
 */
async function storeToKernel(): Promise<number[]> {
  const netnsPath = `/var/run/netns/${NODES[0].netns}`;
  const store = new ObjectStore();
  const nodeObject = (name: string, ip: string, podCIDR: string) => convertNode({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: { podCIDR, podCIDRs: [podCIDR] },
    status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  });
  for (const n of NODES) store.upsert(nodeObject(n.name, n.ip, n.podCIDR));
  store.markSynced('Node');
  store.markSynced('IPAMBlock');
  const table = new NetlinkRouteTable(netnsPath);
  const comp = new RoutesComponent({ log: silentLogger, store, metrics: new Registry(), nodeName: NODES[0].name }, { mode: 'vxlan', modeOptions: { netnsPath }, table });
  const sock = openRtnl(netnsPath);
  const out: number[] = [];
  try {
    await comp.start();
    await new Promise((r) => setTimeout(r, 200));
    await comp.idle();
    const vx = (await linkByName(sock, 'vxlan.netlet'))!.index;
    for (let i = 0; i < latencyRuns; i++) {
      const cidr = `10.244.${150 + i}.0/24`;
      const mac = derivedVtepMac(`store-node-${i}`);
      const t0 = performance.now();
      store.upsert(nodeObject(`store-node-${i}`, `192.0.2.${150 + i}`, cidr));
      for (;;) {
        // One dump at a time: the package cannot tell apart two multipart answers on one socket.
        const done =
          (await listRoutes(sock, { family: 4 })).some((r) => r.dst === cidr) &&
          (await listNeighbours(sock, vx)).some((n) => n.mac === mac) &&
          (await listFdb(sock, vx)).some((f) => f.mac === mac);
        if (done) break;
        if (performance.now() - t0 > 10_000) throw new Error(`store-node-${i}: not programmed within 10 s`);
      }
      out.push(performance.now() - t0);
    }
  } finally {
    await comp.stop();
    table.close();
    closeRtnl(sock);
  }
  return out;
}

const fmt = (xs: IperfResult[]) => ({ gbps: median(xs.map((x) => x.gbps)), min: Math.min(...xs.map((x) => x.gbps)), max: Math.max(...xs.map((x) => x.gbps)), retr: median(xs.map((x) => x.retransmits)) });

async function main(): Promise<number> {
  if (values.down) {
    await teardown();
    return 0;
  }
  if (process.getuid?.() !== 0) throw new Error('bench/route-tunnels.ts makes network namespaces: run it as root');
  const onSignal = () => teardown().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: (string | number)[][] = [];
  const results: Record<string, ReturnType<typeof fmt>> = {};
  const row = (name: string, r: ReturnType<typeof fmt>, ratio: string) => {
    results[name] = r;
    rows.push([name, r.gbps.toFixed(2), `${r.min.toFixed(2)}–${r.max.toFixed(2)}`, r.retr, ratio]);
  };
  let latency: number[] = [];
  let inProcess: number[] = [];
  try {
    log('direct (one link)');
    let c = await cluster('direct');
    row('direct (host-gw, one link)', fmt(await runs(c.web1)), '1.00 (the reference)');

    log('vxlan through netlet, across a router');
    c = await cluster('vxlan');
    log('programming latency');
    latency = await programmingLatency(c.manifests);
    log('vxlan through netlet (checksum offload on and off) and built by hand, in alternation');
    // Stopped, the agents leave their state and cannot put their route back while the floor is measured.
    await stopAgents();
    await handBuiltVxlan();
    const netletRuns: IperfResult[] = [];
    const floorRuns: IperfResult[] = [];
    const csumOffRuns: IperfResult[] = [];
    for (let i = 0; i < repeat; i++) {
      await routeThrough('vxlan.netlet');
      netletRuns.push(...(await once(c.web1)));
      await setTxChecksum(false);
      csumOffRuns.push(...(await once(c.web1)));
      await setTxChecksum(true);
      await routeThrough('vxlan.hand');
      floorRuns.push(...(await once(c.web1)));
    }
    const csumOff = fmt(csumOffRuns);
    log('store → kernel latency, the routes component in-process');
    inProcess = await storeToKernel();
    const netlet = fmt(netletRuns);
    const floor = fmt(floorRuns);
    const direct = results['direct (host-gw, one link)'].gbps;
    const pairs = netletRuns.map((r, i) => r.gbps / floorRuns[i].gbps);
    row('vxlan, built by hand with ip/bridge (the floor)', floor, `${(floor.gbps / direct).toFixed(2)} of direct`);
    row('vxlan, netlet (tx checksum offload on: kernel default, kept; agents stopped, their state in place)', netlet, `${median(pairs).toFixed(2)} of the floor (median of pairs), ${(netlet.gbps / direct).toFixed(2)} of direct`);
    row('vxlan, netlet, tx checksum offload off (ethtool -K … tx off)', csumOff, `${(csumOff.gbps / netlet.gbps).toFixed(2)} of offload on`);

    if (await kernelHasIpip()) {
      log('ipip through netlet');
      c = await cluster('ipip');
      const ipip = fmt(await runs(c.web1));
      row('ipip, netlet', ipip, `${(ipip.gbps / results['direct (host-gw, one link)'].gbps).toFixed(2)} of direct`);
    } else {
      rows.push(['ipip, netlet', 'n/a', '', '', 'this kernel has no ipip: bench/route-tunnels-uml.ts measures it in User-Mode Linux']);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  }
  process.stdout.write(
    `Pod → pod across nodes (client on node2 → web-1 on node1), one TCP stream, iperf3 -t ${seconds} -O 1, receiver goodput; median of ${repeat} runs per row (min–max beside it). Pods have the tunnel's MTU (1450 for VXLAN over a 1500 underlay).\n\n` +
      renderTable(['path', 'Gbit/s', 'range', 'retransmits', 'ratio'], rows) +
      `\n\nFrom a Node manifest written into the agents' folder to node1 holding its route, neighbour and FDB entry (vxlan, ${latencyRuns} nodes, polled with ip/bridge): median ${median(latency).toFixed(0)} ms, range ${Math.min(...latency).toFixed(0)}–${Math.max(...latency).toFixed(0)} ms (the folder's 100 ms and the routes component's 50 ms debounce included).\n` +
      `From a Node entering the store (a watch event) to the same three entries in the kernel, the routes component in-process, polled over netlink: median ${median(inProcess).toFixed(1)} ms, range ${Math.min(...inProcess).toFixed(1)}–${Math.max(...inProcess).toFixed(1)} ms (its 50 ms debounce included).\n`,
  );
  return 0;
}

process.exitCode = await main();
