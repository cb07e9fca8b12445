// Issue 13 (points 2, 3) with real iptables in the node namespace of
// topology.ts. A Service name holding `\nCOMMIT\n*filter\n-A INPUT ...`
// wrote an ACCEPT rule into filter INPUT, through the manifest folder and
// through a hand-edited snapshot; a name with a space or a quote, or an
// endpoint with a zone, failed every sync so that no service was
// programmed. Now such an object is refused alone and named in the log, the
// good services are programmed, and filter INPUT gains nothing. A plan that
// still fails in iptables-restore is traced to by the restore's line.

import t from 'tap';
import type * as Tap from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { endpoint, endpointSlice, node, service, servicePort } from '../../helpers/objects.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import { ep, plan, planSet } from '../../unit/iptables/plans.ts';
import { Driver, buildTopology, get } from './topology.ts';
import type { Topology } from './topology.ts';
import { startAgent as startAgent_ } from '../proxier/agent-process.ts';

const INJECTION = 'y\nCOMMIT\n*filter\n-A INPUT -s 6.6.6.7/32 -j ACCEPT\nCOMMIT\n*nat\n#';

const CONFIG = `
healthzBindAddress: 127.0.0.1:20356
metricsBindAddress: 127.0.0.1:20349
proxy:
  clusterCIDR: 10.244.0.0/16
`;

/** The good service: web at 10.96.0.10, served by pod1. */
const GOOD = `
apiVersion: v1
kind: Node
metadata: {name: node1}
status: {addresses: [{type: InternalIP, address: 192.168.100.1}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: 10.96.0.10, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.1.2], conditions: {ready: true}, nodeName: node1}]
`;

/** A Service (with a slice, so that it would have rules) whose metadata or port is hostile. */
function hostileService(i: number, name: string, namespace: string, portName: string, address = '10.244.2.2'): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: ${JSON.stringify(name)}, namespace: ${JSON.stringify(namespace)}}
spec: {clusterIP: 10.96.1.${i}, ports: [{name: ${JSON.stringify(portName)}, port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s${i}-1, namespace: ${JSON.stringify(namespace)}, labels: {kubernetes.io/service-name: ${JSON.stringify(name.length <= 63 ? name : 'x')}}}
addressType: ${address.includes(':') ? 'IPv6' : 'IPv4'}
ports: [{name: ${JSON.stringify(portName)}, port: 8080, protocol: TCP}]
endpoints: [{addresses: [${JSON.stringify(address)}], conditions: {ready: true}, nodeName: node1}]
`;
}

const HOSTILE = [
  hostileService(1, INJECTION, 'default', 'http'),
  hostileService(2, 'web', INJECTION, 'http'),
  hostileService(3, 'api', 'default', INJECTION),
  hostileService(4, 'my web', 'default', 'http'),
  hostileService(5, 'we"b', 'default', 'http'),
  hostileService(6, 'web;$(reboot)', 'default', 'http'),
  hostileService(7, 'a'.repeat(10_000), 'default', 'http'),
  hostileService(8, 'quoted', 'default', 'ht"tp'),
  hostileService(9, 'zoned', 'default', 'http', 'fe80::5%eth0'),
].join('---\n');

function startAgent(t: Tap.Test, topo: Topology, args: string[]): { log: () => string } {
  return startAgent_(t, topo.lab, topo.node, [...args, '--node-name', 'node1', '--proxy-mode', 'iptables'], { env: { ...process.env, NETLET_IPTABLES_MODE: 'nft' }, stdout: true });
}

async function assertOnlyTheGoodIsProgrammed(t: Tap.Test, topo: Topology): Promise<void> {
  await eventually(async () => (await get(topo.cpod, 'http://10.96.0.10/')).startsWith('pod1 '), 30_000, 200);
  t.pass('the good service is programmed and answers');
  const filter = await topo.node.exec('iptables-nft-save', ['-t', 'filter']);
  const nat = await topo.node.exec('iptables-nft-save', ['-t', 'nat']);
  t.notMatch(filter, /6\.6\.6\.7/, 'filter INPUT gained nothing');
  t.notMatch(nat, /6\.6\.6\.7/, 'nor did nat');
  t.equal(filter.split('\n').filter((l) => l.startsWith('-A INPUT')).filter((l) => !/KUBE-/.test(l)).length, 0, 'no rule of INPUT but the KUBE- jumps');
  t.notMatch(nat, /10\.96\.1\.\d/, 'no hostile service has rules');
}

async function manifestFolder(files: Record<string, string>): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'nliph-'));
  const cfg = join(dir, '..', `${dir.split('/').pop()}.yaml`);
  await writeFile(cfg, CONFIG);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return ['--config', cfg, '--manifests', dir];
}

t.test('a Service name that injects rules through the manifest folder is refused; filter INPUT gains nothing', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('iph');
  t.teardown(() => topo.lab.cleanup());
  const { log } = await startAgent(t, topo, await manifestFolder({ 'good.yaml': GOOD, 'injection.yaml': hostileService(1, INJECTION, 'default', 'http') }));
  await assertOnlyTheGoodIsProgrammed(t, topo);
  t.ok(log().split('\n').some((l) => l.includes('invalid manifest skipped') && l.includes('injection.yaml') && l.includes('metadata.name')), 'a log line names it');
});

t.test('hostile names in the manifest folder: each refused by name, the good service programmed, filter INPUT untouched', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('iph');
  t.teardown(() => topo.lab.cleanup());
  const { log } = await startAgent(t, topo, await manifestFolder({ 'good.yaml': GOOD, 'hostile.yaml': HOSTILE }));
  await assertOnlyTheGoodIsProgrammed(t, topo);
  const skipped = log().split('\n').filter((l) => l.includes('invalid manifest skipped'));
  t.ok(skipped.some((l) => l.includes('hostile.yaml') && l.includes('y\\\\nCOMMIT') && l.includes('metadata.name')), 'a log line names the injected Service name (escaped) and the field');
  t.ok(skipped.some((l) => l.includes('endpoints[0].addresses[0]') && l.includes('fe80::5%eth0')), 'and the endpoint with a zone');
  t.ok(skipped.length >= 9, `each hostile object is named (${skipped.length} lines)`);
});

t.test('a hostile name in a hand-edited snapshot: refused by name, the good service programmed, filter INPUT untouched', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('iph');
  t.teardown(() => topo.lab.cleanup());
  const dir = await mkdtemp(join(tmpdir(), 'nliph-'));
  const cfg = join(dir, 'config.yaml');
  await writeFile(cfg, CONFIG);
  // An API server that cannot be reached (nothing listens on port 1): the agent serves the snapshot.
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`);
  const snapshot = join(dir, 'state.json');
  const injected = service('default', INJECTION, { clusterIPs: ['10.96.1.1'] });
  const objects = [
    node('node1', { internalIPs: ['192.168.100.1'] }),
    service('default', 'web', { clusterIPs: ['10.96.0.10'], ports: [servicePort({ name: 'http', port: 80, targetPort: 8080 })] }),
    endpointSlice('default', 'web', 'web-1', [endpoint('10.244.1.2', { nodeName: 'node1' })], { ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }),
    injected,
    endpointSlice('default', INJECTION, 'bad-1', [endpoint('10.244.2.2', { nodeName: 'node1' })], { ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }),
    service('default', 'quoted', { clusterIPs: ['10.96.1.2'], ports: [servicePort({ name: 'ht"tp' })] }),
  ];
  await writeFile(snapshot, JSON.stringify({ format: 'netlet-snapshot', version: 1, savedAt: new Date().toISOString(), count: objects.length, objects }));
  const { log } = await startAgent(t, topo, ['--config', cfg, '--kubeconfig', kubeconfig, '--snapshot', snapshot]);
  await assertOnlyTheGoodIsProgrammed(t, topo);
  const skipped = log().split('\n').filter((l) => l.includes('invalid snapshot object skipped'));
  t.ok(skipped.some((l) => l.includes('y\\\\nCOMMIT') && l.includes('metadata.name')), 'a log line names the injected Service name (escaped)');
  t.ok(skipped.some((l) => l.includes('ports[0].name')), 'and the port name with a quote');
});

t.test('a plan iptables-restore refuses is traced to by its line; the others load without it (nft and legacy)', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('iph');
  t.teardown(() => topo.lab.cleanup());
  const web = plan('default', 'web', { clusterIP: '10.96.0.10', clusterEndpoints: [ep('10.244.1.2', 8080)] });
  // Passes the renderer's text check (digits and dots), refused by iptables.
  const bad = plan('default', 'bad', { clusterIP: '10.96.0.999', clusterEndpoints: [ep('10.244.2.2', 8080)] });
  const api = plan('default', 'zapi', { clusterIP: '10.96.0.11', clusterEndpoints: [ep('10.244.2.2', 8080)] });
  for (const mode of ['nft', 'legacy'] as const) {
    const driver = new Driver(topo, mode);
    const err = await driver.sync(planSet(web, bad, api), { full: true }).catch((e: unknown) => e as Error & { planKey?: string });
    t.ok(err instanceof Error, `${mode}: the sync with it fails`);
    t.equal((err as { planKey?: string }).planKey, planKey(bad), `${mode}: and names the plan whose line was refused`);
    await driver.sync(planSet(web, api), { full: true });
    t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod1 /, `${mode}: web served without it`);
    t.match(await get(topo.cpod, 'http://10.96.0.11/'), /^pod2 /, `${mode}: and the plan after it`);
    await driver.cleanup();
    driver.stop();
  }
});
