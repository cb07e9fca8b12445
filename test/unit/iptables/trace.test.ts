// Render hand-built plans, then trace packets through the rendered rules:
// kube-proxy's own testing habit (its pkg/proxy/iptables/proxier_test.go
// traces packets through its rules the same way), rows of
// {source, destination, port} → {endpoints, masqueraded?}.

import t from 'tap';
import { renderFirstSync } from './render-helpers.ts';
import { ep, plan, planSet } from './plans.ts';
import { parseSave } from '../../../src/iptables/trace/parse.ts';
import { trace } from '../../../src/iptables/trace/tracer.ts';
import type { Outcome } from '../../../src/iptables/trace/tracer.ts';

const NODE_IP = '192.168.1.10';
const local = (ip: string, port: number) => ep(ip, port, { isLocal: true, nodeName: 'node1' });

const plans = planSet(
  plan('default', 'web', {
    clusterIP: '10.96.0.10',
    nodePort: 30080,
    externalIPs: ['192.0.2.100'],
    clusterEndpoints: [ep('10.244.1.2', 8080), ep('10.244.1.3', 8080)],
  }),
  plan('default', 'lb', {
    clusterIP: '10.96.0.11',
    nodePort: 30081,
    loadBalancerIPs: ['192.0.2.200'],
    loadBalancerSourceRanges: ['198.51.100.0/24'],
    externalTraffic: 'local',
    healthCheckNodePort: 32001,
    clusterEndpoints: [ep('10.244.1.2', 8080), local('10.244.2.2', 8080)],
    localEndpoints: [local('10.244.2.2', 8080)],
  }),
  // Source ranges holding the node's IP (192.168.1.10): the node reaching its own LB IP is let in.
  plan('default', 'lb-node', {
    clusterIP: '10.96.0.20',
    loadBalancerIPs: ['192.0.2.201'],
    loadBalancerSourceRanges: ['192.168.1.0/24'],
    loadBalancerSourceRangesIncludeNode: true,
    clusterEndpoints: [ep('10.244.1.10', 80)],
  }),
  plan('default', 'empty', { clusterIP: '10.96.0.12', nodePort: 30082 }),
  plan('default', 'sticky', { clusterIP: '10.96.0.13', affinityTimeoutSeconds: 10800, clusterEndpoints: [ep('10.244.1.4', 80), ep('10.244.1.5', 80)] }),
  plan('default', 'draining', {
    clusterIP: '10.96.0.14',
    // The proxier's terminating fallback: no ready endpoint, a serving+terminating one is used.
    clusterEndpoints: [ep('10.244.1.6', 80, { ready: false, serving: true, terminating: true })],
  }),
  plan('default', 'nodelocal', { clusterIP: '10.96.0.15', internalTraffic: 'local', localEndpoints: [local('10.244.2.3', 80)] }),
  plan('default', 'localnone', { clusterIP: '10.96.0.16', nodePort: 30083, externalTraffic: 'local', clusterEndpoints: [ep('10.244.1.7', 80)], localEndpoints: [] }),
  // internalTrafficPolicy Local with its endpoints on other nodes only, and one without usable endpoints anywhere.
  plan('default', 'itp-elsewhere', { clusterIP: '10.96.0.18', internalTraffic: 'local', hasAnyEndpoints: true }),
  plan('default', 'itp-none', { clusterIP: '10.96.0.19', internalTraffic: 'local', hasAnyEndpoints: false }),
  plan('default', 'dns', { clusterIP: '10.96.0.53', port: 53, protocol: 'udp', portName: 'dns', clusterEndpoints: [ep('10.244.1.8', 53)] }),
  plan('default', 'all-masq', { clusterIP: '10.96.0.17', masqueradeAll: true, clusterEndpoints: [ep('10.244.1.9', 80)] }),
);

const tables = parseSave(renderFirstSync(plans));
const POD = '10.244.2.5';
const OUTSIDE = '203.0.113.7';

/** "dnat 10.244.1.2:8080" / "dnat … masq" / "reject" / "drop" / "accept". */
const summary = (outs: Outcome[]) => outs.map((o) => [o.verdict, o.endpoint, o.masqueraded ? 'masq' : ''].filter(Boolean).join(' ')).sort();

/** `local`: more addresses of the node (an LB IP assigned to it) beside NODE_IP. */
const rows: { name: string; src: string; dst: string; port: number; proto?: 'tcp' | 'udp'; local?: string[]; want: string[] }[] = [
  { name: 'pod to ClusterIP reaches every endpoint, source kept', src: POD, dst: '10.96.0.10', port: 80, want: ['dnat 10.244.1.2:8080', 'dnat 10.244.1.3:8080'] },
  { name: 'off-cluster source to ClusterIP is masqueraded', src: OUTSIDE, dst: '10.96.0.10', port: 80, want: ['dnat 10.244.1.2:8080 masq', 'dnat 10.244.1.3:8080 masq'] },
  { name: 'the node itself to ClusterIP is masqueraded', src: NODE_IP, dst: '10.96.0.10', port: 80, want: ['dnat 10.244.1.2:8080 masq', 'dnat 10.244.1.3:8080 masq'] },
  { name: 'external client to NodePort', src: OUTSIDE, dst: NODE_IP, port: 30080, want: ['dnat 10.244.1.2:8080 masq', 'dnat 10.244.1.3:8080 masq'] },
  { name: 'external client to externalIP', src: OUTSIDE, dst: '192.0.2.100', port: 80, want: ['dnat 10.244.1.2:8080 masq', 'dnat 10.244.1.3:8080 masq'] },
  { name: 'hairpin: an endpoint reaching itself is masqueraded', src: '10.244.1.2', dst: '10.96.0.10', port: 80, want: ['dnat 10.244.1.2:8080 masq', 'dnat 10.244.1.3:8080'] },
  { name: 'LB from an allowed source, Local policy: local endpoint, source kept', src: '198.51.100.9', dst: '192.0.2.200', port: 80, want: ['dnat 10.244.2.2:8080'] },
  { name: 'LB from a denied source is dropped', src: OUTSIDE, dst: '192.0.2.200', port: 80, want: ['drop'] },
  { name: 'LB source ranges apply to pods too', src: POD, dst: '192.0.2.200', port: 80, want: ['drop'] },
  { name: 'the node to its own LB IP (source: the LB IP), ranges holding the node: served', src: '192.0.2.201', dst: '192.0.2.201', port: 80, local: ['192.0.2.201'], want: ['dnat 10.244.1.10:80 masq'] },
  { name: 'the node to its own LB IP (source: the LB IP), ranges without the node: dropped', src: '192.0.2.200', dst: '192.0.2.200', port: 80, local: ['192.0.2.200'], want: ['drop'] },
  { name: 'LB with ranges holding the node: an outside source outside them is still dropped', src: OUTSIDE, dst: '192.0.2.201', port: 80, want: ['drop'] },
  { name: 'LB with ranges holding the node: an allowed source reaches it', src: '192.168.1.77', dst: '192.0.2.201', port: 80, want: ['dnat 10.244.1.10:80 masq'] },
  { name: 'Local-policy NodePort from outside: local endpoint only', src: OUTSIDE, dst: NODE_IP, port: 30081, want: ['dnat 10.244.2.2:8080'] },
  { name: 'Local-policy NodePort from a pod short-circuits to Cluster', src: POD, dst: NODE_IP, port: 30081, want: ['dnat 10.244.1.2:8080', 'dnat 10.244.2.2:8080'] },
  { name: 'no endpoints: ClusterIP rejected', src: POD, dst: '10.96.0.12', port: 80, want: ['reject'] },
  { name: 'no endpoints: NodePort rejected', src: OUTSIDE, dst: NODE_IP, port: 30082, want: ['reject'] },
  { name: 'affinity: every endpoint possible', src: POD, dst: '10.96.0.13', port: 80, want: ['dnat 10.244.1.4:80', 'dnat 10.244.1.5:80'] },
  { name: 'terminating fallback endpoint', src: POD, dst: '10.96.0.14', port: 80, want: ['dnat 10.244.1.6:80'] },
  { name: 'internalTrafficPolicy Local: node-local endpoint only', src: POD, dst: '10.96.0.15', port: 80, want: ['dnat 10.244.2.3:80'] },
  { name: 'external Local policy without local endpoints: dropped from outside', src: OUTSIDE, dst: NODE_IP, port: 30083, want: ['drop'] },
  { name: 'external Local policy without local endpoints: pods still served', src: POD, dst: NODE_IP, port: 30083, want: ['dnat 10.244.1.7:80'] },
  { name: 'internalTrafficPolicy Local, endpoints only elsewhere: dropped, not rejected', src: POD, dst: '10.96.0.18', port: 80, want: ['drop'] },
  { name: 'internalTrafficPolicy Local, no endpoints anywhere: rejected', src: POD, dst: '10.96.0.19', port: 80, want: ['reject'] },
  { name: 'UDP service', src: POD, dst: '10.96.0.53', port: 53, proto: 'udp', want: ['dnat 10.244.1.8:53'] },
  { name: 'wrong protocol: no service', src: POD, dst: '10.96.0.53', port: 53, proto: 'tcp', want: ['accept'] },
  { name: 'wrong port: no service', src: POD, dst: '10.96.0.10', port: 81, want: ['accept'] },
  { name: 'masqueradeAll masquerades pods too', src: POD, dst: '10.96.0.17', port: 80, want: ['dnat 10.244.1.9:80 masq'] },
  { name: 'unrelated traffic passes untouched', src: POD, dst: '8.8.8.8', port: 53, proto: 'udp', want: ['accept'] },
  { name: 'NodePorts are not offered on loopback', src: NODE_IP, dst: '127.0.0.1', port: 30080, want: ['accept'] },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const outs = trace(tables, { src: row.src, dst: row.dst, port: row.port, proto: row.proto ?? 'tcp' }, { localAddresses: [NODE_IP, ...(row.local ?? [])] });
    t.same(summary(outs), [...row.want].sort(), `${row.src} -> ${row.dst}:${row.port}`);
  });
}

t.test('a path names the rules that decided it', async (t) => {
  const [o] = trace(tables, { src: POD, dst: '10.96.0.12', port: 80, proto: 'tcp' }, { localAddresses: [NODE_IP] });
  t.match(o.path.join('\n'), /default\/empty:http has no endpoints/);
});
