// The whole agent with --proxy-mode nftables (manifest folder → proxier →
// the nftables backend) in the node namespace of the iptables suite's
// topology: an endpoint removed from its slice, a restart under a request
// loop, a deleted table coming back within syncPeriod, `netlet cleanup`.

import t from 'tap';
import type * as Tap from 'tap';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { curlCode } from '../iptables/topology.ts';
import type { Topology } from '../iptables/topology.ts';
import { NETLET } from '../proxier/agent-process.ts';
import { bothPodsAnswer, podsAnswering, restartUnderRequestLoop, setWebEndpoints, setupWebAgent, startWebAgent } from '../proxier/web-agent.ts';

const CONFIG = `
healthzBindAddress: 127.0.0.1:20256
metricsBindAddress: 127.0.0.1:20249
proxy:
  mode: nftables
  clusterCIDR: 10.244.0.0/16
  nftables: {syncPeriod: 2s, minSyncPeriod: 0s}
`;

const startAgent = (t: Tap.Test, topo: Topology, dir: string, cfg: string) => startWebAgent(t, topo, dir, cfg);

const setup = (t: Tap.Test) => setupWebAgent(t, 'nfa', CONFIG);

t.test('agent: spread, an endpoint removed from its slice, a deleted table back within syncPeriod, no iptables rules', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg, file } = await setup(t);
  await startAgent(t, topo, dir, cfg);
  await bothPodsAnswer(topo);
  t.pass('both endpoints answer through the ClusterIP');
  t.notMatch(await topo.node.exec('iptables-nft-save', []), /KUBE-/, 'no iptables rules in this mode');

  await setWebEndpoints(file, ['10.244.2.2']);
  await eventually(async () => !(await topo.node.exec('nft', ['list', 'table', 'ip', 'netlet'])).includes('10.244.1.2 . 8080'), 20_000, 100);
  const after = await podsAnswering(topo, 20);
  t.same([...new Set(after)], ['pod2'], 'every new connection goes to the remaining endpoint');

  await topo.node.exec('nft', ['delete', 'table', 'ip', 'netlet']);
  const deletedAt = Date.now();
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 15_000, 100);
  t.ok(Date.now() - deletedAt < 10_000, `served again ${Date.now() - deletedAt} ms after the table was deleted (syncPeriod 2 s)`);
  const metrics = await topo.node.exec('curl', ['-s', 'http://127.0.0.1:20249/metrics']);
  t.match(metrics, /kubeproxy_sync_proxy_rules_duration_seconds_count\{ip_family="IPv4"\} [1-9]/, "kube-proxy's sync metrics");
});

t.test('agent: a restart under a continuous request loop loses no request; netlet cleanup removes the tables', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg } = await setup(t);
  const loop = await restartUnderRequestLoop(topo, () => startAgent(t, topo, dir, cfg), { awaitExit: true });
  t.ok(loop.requests - loop.during >= 10, `requests ran while the agent was down and restarting (${loop.requests - loop.during})`);
  t.equal(loop.failures, 0, `no request failed (${loop.requests} requests)`);

  // kube-proxy's nftables tables, as its nftables mode leaves them.
  await topo.node.exec('nft', ['add', 'table', 'ip', 'kube-proxy']);
  await topo.node.exec('nft', ['add', 'table', 'ip6', 'kube-proxy']);
  await topo.node.exec('nft', ['add', 'table', 'ip', 'foreign']);
  const out = await topo.node.exec(process.execPath, [NETLET, 'cleanup', '--kube-proxy']);
  t.match(out, /nftables ip netlet: removed 1 table/, 'netlet cleanup reports the table');
  t.match(out, /nftables ip6 kube-proxy: removed 1 table/, "and kube-proxy's");
  const tables = await topo.node.exec('nft', ['list', 'tables']);
  t.notMatch(tables, /netlet|kube-proxy/, 'both gone');
  t.match(tables, /table ip foreign/, 'a foreign table stays');
});
