// The service-proxy tests of both backends (iptables/service-proxy.test.ts,
// nftables/service-proxy.test.ts) in the topology of iptables/topology.ts:
// the plans they sync, the real traffic they send through them and what it
// must find, and `netlet trace` on the live rules checked against that
// traffic.

import type * as Tap from 'tap';
import { ep, plan } from '../../unit/iptables/plans.ts';
import { EXT_IP, NODE_IP, curlCode, get } from '../iptables/topology.ts';
import type { Topology } from '../iptables/topology.ts';

export const local = (ip: string, port = 8080) => ep(ip, port, { isLocal: true, nodeName: 'node1' });

export const web = plan('default', 'web', {
  clusterIP: '10.96.0.10',
  nodePort: 30080,
  externalIPs: ['192.0.2.100'],
  clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')],
});
export const empty = plan('default', 'empty', { clusterIP: '10.96.0.12', nodePort: 30082 });
export const sticky = plan('default', 'sticky', { clusterIP: '10.96.0.13', affinityTimeoutSeconds: 600, clusterEndpoints: [local('10.244.1.2'), local('10.244.2.2')] });
export const onlyLocal = plan('default', 'onlylocal', {
  clusterIP: '10.96.0.14',
  nodePort: 30084,
  externalTraffic: 'local',
  // 10.244.9.9 is on another node: Cluster traffic could go there, Local never.
  clusterEndpoints: [local('10.244.1.2'), ep('10.244.9.9', 8080)],
  localEndpoints: [local('10.244.1.2')],
});

/** The bodies ("<pod> <client address>") of `n` requests to `url` from `from`. */
export async function bodies(from: Topology['cpod'], url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await get(from, url));
  return out;
}

/** The pods that answered, each once, sorted. */
export const pods = (list: string[]) => [...new Set(list.map((b) => b.split(' ')[0]))].sort();

/**
 * Real traffic through web, empty and (with stickyAndLocal) sticky and
 * onlyLocal, synced by the test: spread and source kept inside the cluster,
 * NodePort and externalIP, refusal without endpoints, affinity, Local policy.
 */
export async function checkDataPath(t: Tap.Test, topo: Topology, opts: { stickyAndLocal: boolean }): Promise<void> {
  const fromPod = await bodies(topo.cpod, 'http://10.96.0.10/', 30);
  t.same(pods(fromPod), ['pod1', 'pod2'], 'ClusterIP: load spread over every endpoint');
  t.ok(fromPod.every((b) => b.endsWith(' 10.244.3.2')), 'pod source kept (no masquerade inside the cluster CIDR)');

  const nodePort = await bodies(topo.ext, `http://${NODE_IP}:30080/`, 10);
  t.ok(nodePort.length === 10 && pods(nodePort).length >= 1, 'NodePort reaches the backends');
  t.ok(nodePort.every((b) => !b.endsWith(` ${EXT_IP}`)), 'NodePort with Cluster policy masquerades the external source');

  t.match(await get(topo.ext, 'http://192.0.2.100/'), /^pod[12] /, 'externalIP reaches a backend');

  const refused = await curlCode(topo.cpod, 'http://10.96.0.12/', 5);
  t.equal(refused.code, 7, 'no endpoints: connection refused (curl exit 7), not a timeout');
  t.ok(refused.ms < 2000, `refused at once (${refused.ms} ms)`);
  t.equal((await curlCode(topo.ext, `http://${NODE_IP}:30082/`, 5)).code, 7, 'no endpoints on the NodePort: refused');

  if (opts.stickyAndLocal) {
    const stickyBodies = await bodies(topo.cpod, 'http://10.96.0.13/', 15);
    t.equal(pods(stickyBodies).length, 1, `session affinity sticks to one pod (${pods(stickyBodies)})`);

    const localBodies = await bodies(topo.ext, `http://${NODE_IP}:30084/`, 10);
    t.same(pods(localBodies), ['pod1'], 'Local policy: only the local endpoint answers');
    t.ok(localBodies.every((b) => b.endsWith(` ${EXT_IP}`)), 'Local policy keeps the client source address');
  }
}

/**
 * `netlet trace SRC DST ...modeArgs --local-addresses NODE_IP` in the node
 * namespace, with web, empty and onlyLocal synced: its outcomes (--json) and
 * its words agree with the plans and with real traffic.
 */
export async function checkTrace(t: Tap.Test, topo: Topology, modeArgs: string[]): Promise<void> {
  const netlet = new URL('../../../bin/netlet.js', import.meta.url).pathname;
  const trace = (src: string, dst: string, ...more: string[]) => topo.node.exec(process.execPath, [netlet, 'trace', src, dst, ...modeArgs, '--local-addresses', NODE_IP, ...more]);
  const traceJson = async (src: string, dst: string) =>
    (JSON.parse(await trace(src, dst, '--json')) as { outcomes: { verdict: string; endpoint?: string; masqueraded: boolean }[] }).outcomes
      .map((o) => `${o.verdict}${o.endpoint ? ` ${o.endpoint}` : ''}${o.masqueraded ? ' masq' : ''}`)
      .sort();
  t.same(await traceJson('10.244.3.2', '10.96.0.10:80'), ['dnat 10.244.1.2:8080', 'dnat 10.244.2.2:8080'], 'ClusterIP from a pod');
  t.same(await traceJson(EXT_IP, `${NODE_IP}:30084`), ['dnat 10.244.1.2:8080'], 'Local-policy NodePort from outside');
  t.same(await traceJson('10.244.3.2', '10.96.0.12:80'), ['reject'], 'no endpoints');
  t.same(pods(await bodies(topo.ext, `http://${NODE_IP}:30084/`, 5)), ['pod1'], 'and the kernel agrees on the Local NodePort');
  t.match(await trace(EXT_IP, `${NODE_IP}:30080`), /DNAT to 10\.244\.1\.2:8080, source masqueraded/, 'the path in words');
}
