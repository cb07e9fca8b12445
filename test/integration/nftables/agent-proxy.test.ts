// The agent in nftables mode, end to end in a node namespace, for what the
// proxier does beside the rules: the UDP conntrack entry of a removed
// endpoint deleted after the partial sync, the healthCheckNodePort's
// 200 / 503 for a Local policy, kube-proxy's metrics.

import t from 'tap';
import { rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { agentProxyLab, agentProxyManifests } from '../proxier/agent-proxy-cluster.ts';
import { startAgent } from '../proxier/agent-process.ts';

const UDP_SEND = fileURLToPath(new URL('../proxier/udp-send.ts', import.meta.url));

const manifests = (dnsEndpoint: string, lbLocal: boolean) => agentProxyManifests(dnsEndpoint, { web: false, lbLocal });

t.test('agent, nftables: UDP conntrack cleanup after a partial sync, health check 200/503, metrics', { skip: rootSkip() }, async (t) => {
  const { lab, node, dir, file } = await agentProxyLab(t, 'nfp', manifests('10.244.0.2', true));
  const agent = startAgent(t, lab, node, ['--manifests', dir, '--node-name', 'node-a', '--proxy-mode', 'nftables', '--log-level', 'debug'], { tail: 4000 });

  const table = () => node.exec('nft', ['list', 'table', 'ip', 'netlet'], { allowFail: true });
  await eventually(async () => (await table()).includes('10.244.0.2 . 53'), 20_000, 200);
  t.pass('first sync programmed the endpoint');

  await node.exec(process.execPath, [UDP_SEND, '10.96.0.10', '53', '40111']);
  const ct = () => node.exec('conntrack', ['-L', '-p', 'udp'], { allowFail: true });
  t.match(await ct(), /dst=10\.96\.0\.10 sport=40111 dport=53 .*src=10\.244\.0\.2 /, 'the flow points at the first endpoint');

  const hc = () => node.exec('curl', ['-s', '-i', '--max-time', '2', 'http://127.0.0.1:32150/']);
  t.match(await eventually(hc, 10_000, 200), /^HTTP\/1\.1 200 /, 'healthCheckNodePort answers 200: one local endpoint');

  await writeFile(`${file}.tmp`, manifests('10.244.0.3', false));
  await rename(`${file}.tmp`, file);
  await eventually(async () => (await table()).includes('10.244.0.3 . 53'), 20_000, 200);
  t.notOk((await table()).includes('10.244.0.2 . 53'), 'the removed endpoint is gone from the table');
  await eventually(async () => !(await ct()).includes('sport=40111'), 10_000, 100);
  t.pass('the stale UDP flow to the removed endpoint was deleted');
  t.match(agent.log(), /"full":false/, 'the endpoint change was a partial sync');
  t.match(await eventually(async () => ((await hc()).startsWith('HTTP/1.1 503') ? hc() : Promise.reject(new Error('still 200'))), 10_000, 200), /^HTTP\/1\.1 503 /, 'and 503 once the local endpoint is gone');

  const metrics = await node.exec('curl', ['-s', 'http://127.0.0.1:10249/metrics']);
  t.match(metrics, /kubeproxy_sync_partial_proxy_rules_duration_seconds_count\{ip_family="IPv4"\} [1-9]/);
  t.match(metrics, /kubeproxy_sync_proxy_rules_iptables_total\{ip_family="IPv4",table="netlet"\} \d+/, 'rules and elements of the table, under the proxier metric');
  t.match(metrics, /kubeproxy_network_programming_duration_seconds|kubeproxy_sync_proxy_rules_last_timestamp_seconds/);
});
