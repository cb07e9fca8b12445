// Data-path throughput through netlet, beside a bare veth in the same run.
// Builds the demo's two-node cluster in network namespaces (netlet-cni pods,
// a netlet agent per node, an external namespace; src/agent/demo/) under the
// prefix `netlet-bn`, runs an iperf3 server in pod web-1 (node1), and
// measures one TCP stream for each path:
//   pod → pod, same node        web-2  → web-1
//   pod → pod, across nodes     client → web-1 (node2 → node1, direct routes)
//   pod → ClusterIP             web-2  → 10.96.0.120:5201 → web-1 (DNAT on node1)
//   external → NodePort         ext    → 198.51.100.1:30201 → web-1
// Each path run is preceded by a run over the raw veth (two bare namespaces,
// one veth pair), so every ratio compares two runs taken seconds apart under
// the same machine load; --repeat such pairs per path give medians, as one
// pair on a busy 2-core machine can be off by ±40%. All traffic stays inside
// the bench's namespaces.
//
//   npx node bench/iperf.ts [--seconds 3] [--repeat 3] [--down]
//
// --down removes a bench cluster left by an interrupted run.

import './lib/bench-prefix.ts';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEMO_DIR, addNetns, cable, demoNamespaces, inNetns, startDetached, teardown } from '../src/agent/demo/lab.ts';
import { DEMO_PREFIX, EXTERNAL, NODES, PODS } from '../src/agent/demo/layout.ts';
import { attachPods, buildTopology, startAgents, waitForAgents, writeManifests } from '../src/agent/demo/steps.ts';
import { iperf3 } from './lib/iperf3.ts';
import type { IperfResult } from './lib/iperf3.ts';
import { renderTable } from './lib/markdown.ts';

const IPERF_PORT = 5201;
const IPERF_SERVICE_IP = '10.96.0.120';
const IPERF_NODE_PORT = 30201;
const RAW = { a: `${DEMO_PREFIX}-rawa`, b: `${DEMO_PREFIX}-rawb`, aIP: '203.0.113.1', bIP: '203.0.113.2' };

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, repeat: { type: 'string', default: '3' }, down: { type: 'boolean' } },
});
const seconds = Number(values.seconds);
const repeat = Number(values.repeat);
const log = (s: string) => process.stderr.write(`iperf: ${s}\n`);
const pod = (name: string) => PODS.find((p) => p.name === name)!;

/** A Service in front of web-1 only: iperf3's control and data connections must reach the same server. */
function iperfManifests(web1IP: string): object[] {
  const meta = (name: string) => ({ name, namespace: 'default' });
  const ports = [{ name: 'iperf', port: IPERF_PORT, targetPort: IPERF_PORT, protocol: 'TCP' }];
  const slice = (name: string, service: string) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { ...meta(name), labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'iperf', protocol: 'TCP', port: IPERF_PORT }],
    endpoints: [{ addresses: [web1IP], conditions: { ready: true }, nodeName: pod('web-1').node.name, targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1' } }],
  });
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: meta('iperf'), spec: { type: 'ClusterIP', clusterIP: IPERF_SERVICE_IP, clusterIPs: [IPERF_SERVICE_IP], ports } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('iperf-nodeport'),
      spec: { type: 'NodePort', clusterIP: '10.96.0.121', clusterIPs: ['10.96.0.121'], ports: [{ ...ports[0], nodePort: IPERF_NODE_PORT }] },
    },
    slice('iperf-pods', 'iperf'),
    slice('iperf-nodeport-pods', 'iperf-nodeport'),
  ];
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s (logs: ${DEMO_DIR}/logs/)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function build(): Promise<Map<string, string>> {
  if ((await demoNamespaces()).length) await teardown();
  log('building namespaces');
  await buildTopology();
  await addNetns(RAW.a);
  await addNetns(RAW.b);
  await cable(RAW.a, 'eth0', `${RAW.aIP}/24`, RAW.b, 'eth0', `${RAW.bIP}/24`);
  log('attaching pods with netlet-cni');
  const ips = await attachPods();
  const manifests = writeManifests(ips);
  writeFileSync(`${manifests}/iperf.json`, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: iperfManifests(ips.get('web-1')!) }));
  log('starting agents and iperf3 servers');
  startAgents(manifests, 'iptables');
  startDetached(pod('web-1').netns, 'iperf3-web-1', 'iperf3', ['-s', '-p', String(IPERF_PORT)]);
  startDetached(RAW.b, 'iperf3-raw', 'iperf3', ['-s', '-p', String(IPERF_PORT)]);
  await waitForAgents('iptables');
  await waitFor('iperf Service rules on node1', async () => {
    const nat = await inNetns(NODES[0].netns, 'iptables-save', ['-t', 'nat']);
    return nat.includes(`${IPERF_SERVICE_IP}/32`) && nat.includes(`--dport ${IPERF_NODE_PORT}`);
  });
  return ips;
}

interface Path {
  name: string;
  from: string;
  host: string;
  port: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(paths: Path[]): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const p of paths) {
    const pairs: { raw: IperfResult; through: IperfResult }[] = [];
    for (let i = 0; i < repeat; i++) {
      const raw = await iperf3(RAW.a, RAW.bIP, IPERF_PORT, seconds);
      const through = await iperf3(p.from, p.host, p.port, seconds);
      pairs.push({ raw, through });
    }
    const ratios = pairs.map((x) => x.through.gbps / x.raw.gbps);
    const gbps = median(pairs.map((x) => x.through.gbps));
    log(`${p.name}: ${pairs.map((x) => `${x.through.gbps.toFixed(1)}/${x.raw.gbps.toFixed(1)}`).join(' ')} Gbit/s (path/raw)`);
    rows.push([
      p.name,
      gbps.toFixed(2),
      median(pairs.map((x) => x.raw.gbps)).toFixed(2),
      `${(100 * median(ratios)).toFixed(0)}%`,
      `${(100 * Math.min(...ratios)).toFixed(0)}–${(100 * Math.max(...ratios)).toFixed(0)}%`,
      median(pairs.map((x) => x.through.retransmits)),
    ]);
  }
  return renderTable(['path', 'Gbit/s', 'raw veth Gbit/s', 'path / raw', 'path / raw, range', 'retransmits'], rows);
}

async function main(): Promise<number> {
  if (values.down) {
    await teardown();
    return 0;
  }
  if (process.getuid?.() !== 0) throw new Error('bench/iperf.ts makes network namespaces: run it as root');
  const onSignal = () => {
    log('interrupted: removing the bench cluster');
    teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const ips = await build();
    const table = await measure([
      { name: 'pod → pod, same node (web-2 → web-1)', from: pod('web-2').netns, host: ips.get('web-1')!, port: IPERF_PORT },
      { name: 'pod → pod, across nodes (client → web-1)', from: pod('client').netns, host: ips.get('web-1')!, port: IPERF_PORT },
      { name: `pod → ClusterIP ${IPERF_SERVICE_IP} (web-2 → web-1, same node)`, from: pod('web-2').netns, host: IPERF_SERVICE_IP, port: IPERF_PORT },
      { name: `external → NodePort ${EXTERNAL.nodeSide}:${IPERF_NODE_PORT} (→ web-1)`, from: EXTERNAL.netns, host: EXTERNAL.nodeSide, port: IPERF_NODE_PORT },
    ]);
    process.stdout.write(
      `One TCP stream, iperf3 -t ${seconds} -O 1, receiver goodput; medians of ${repeat} pairs per path, each pair a raw veth run (two bare namespaces, one veth pair) right before the path run.\n\n${table}\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  }
}

process.exitCode = await main();
