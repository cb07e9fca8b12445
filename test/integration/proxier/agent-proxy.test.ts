// The proxier wired into the agent, end to end in a node namespace: the agent
// reads a manifest folder, programs iptables through the iptables backend,
// follows an endpoint change with a partial sync, deletes the UDP conntrack
// entry of the removed endpoint, and serves kube-proxy's metrics and healthz.
import t from 'tap';
import { rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { agentProxyLab, agentProxyManifests } from './agent-proxy-cluster.ts';
import { startAgent } from './agent-process.ts';

const manifests = (endpointIP: string) => agentProxyManifests(endpointIP, { web: true, lbLocal: true });

t.test('agent: rules, partial sync on endpoint change, UDP conntrack cleanup, metrics', { skip: rootSkip() }, async (t) => {
  const { lab, node, pod, dir, file } = await agentProxyLab(t, 'pc', manifests('10.244.0.2'));
  const agent = startAgent(t, lab, node, ['--manifests', dir, '--node-name', 'node-a', '--log-level', 'debug'], { env: { ...process.env, NETLET_IPTABLES_MODE: 'nft' }, tail: 4000 });

  const nat = () => node.exec('iptables-save', ['-t', 'nat']);
  await eventually(async () => (await nat()).includes('--to-destination 10.244.0.2:53'), 20_000, 200);
  t.pass('first sync programmed the endpoint');

  // Real traffic through the ClusterIP: port 80 reaches the pod's 8080 (the slice port named like the service port).
  lab.track(pod.spawn(process.execPath, ['-e', "require('http').createServer((q, r) => r.end('pod-a')).listen(8080)"]));
  const body = await eventually(async () => node.exec('curl', ['-s', '--max-time', '2', 'http://10.96.0.20/']), 15_000, 200);
  t.equal(body, 'pod-a', 'a request to the ClusterIP is answered by the endpoint');

  // A UDP flow DNATed to the endpoint (nothing listens: the entry stays, unreplied).
  await node.exec(process.execPath, [fileURLToPath(new URL('./udp-send.ts', import.meta.url)), '10.96.0.10', '53', '40111']);
  const ct = () => node.exec('conntrack', ['-L', '-p', 'udp'], { allowFail: true });
  t.match(await ct(), /dst=10\.96\.0\.10 sport=40111 dport=53 .*src=10\.244\.0\.2 /, 'the flow points at the first endpoint');

  const tmp = `${file}.tmp`;
  await writeFile(tmp, manifests('10.244.0.3'));
  await rename(tmp, file);
  await eventually(async () => (await nat()).includes('--to-destination 10.244.0.3:53'), 20_000, 200);
  t.notOk((await nat()).includes('10.244.0.2:53'), 'the removed endpoint is gone from the rules');
  await eventually(async () => !(await ct()).includes('sport=40111'), 10_000, 100);
  t.pass('the stale UDP flow to the removed endpoint was deleted');
  t.match(agent.log(), /"full":false/, 'the endpoint change was a partial sync');

  const metrics = await node.exec('curl', ['-s', 'http://127.0.0.1:10249/metrics']);
  t.match(metrics, /kubeproxy_sync_proxy_rules_duration_seconds_count\{ip_family="IPv4"\} [2-9]/);
  t.match(metrics, /kubeproxy_sync_partial_proxy_rules_duration_seconds_count\{ip_family="IPv4"\} [1-9]/);
  t.match(metrics, /kubeproxy_sync_proxy_rules_last_timestamp_seconds\{ip_family="IPv4"\} \d/);
  t.match(metrics, /kubeproxy_sync_proxy_rules_iptables_total\{ip_family="IPv4",table="[a-z]+"\} \d+/);
  const hc = await eventually(() => node.exec('curl', ['-s', '-i', '--max-time', '2', 'http://127.0.0.1:32150/']), 10_000, 200);
  t.match(hc, /^HTTP\/1\.1 200 /, 'healthCheckNodePort answers 200: one local endpoint');
  t.ok(hc.endsWith('{"service":{"namespace":"default","name":"lb"},"localEndpoints":1,"serviceProxyHealthy":true}'), 'kube-proxy body');
  t.match(hc, /Content-Length: 93/i, 'sent with a length, not chunked');
  const healthz = await node.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:10256/healthz']);
  t.equal(healthz, '200');
});
