// `netlet dns --check FILE`: what would run, in query order, the warnings
// about old spellings, and every refused directive at once.
import t from 'tap';
import { join } from 'node:path';
import { checkCorefile } from '../../../src/dns/corefile-check.ts';
import { filesIn } from './corefile-server.ts';

t.test('a Corefile netlet serves', async (t) => {
  const dir = await filesIn(t, {
    Corefile: '.:53 {\n forward . 10.0.0.1\n errors\n kubernetes cluster.local 10.96.0.0/15 {\n  upstream\n }\n cache 30\n}\nimport stub.server\n',
    'stub.server': 'consul.local:1053 {\n bind 127.0.0.1\n proxy . 10.150.0.1\n}\n',
  });
  const r = await checkCorefile(join(dir, 'Corefile'));
  t.equal(r.ok, true);
  t.strictSame(r.text.split('\n').filter(Boolean), [
    `server block .:53 (${dir}/Corefile line 1): zones . on 0.0.0.0:53`,
    '  runs, in this order: errors, cache, kubernetes, forward',
    `server block consul.local:1053 (${dir}/stub.server line 1): zones consul.local. on 127.0.0.1:1053`,
    '  runs, in this order: bind, forward',
    `warning: ${dir}/Corefile line 5: 'kubernetes upstream' has been ignored since CoreDNS 1.5.2 and is ignored here too: ExternalName targets are resolved through this block's forward`,
    `warning: ${dir}/stub.server line 3: 'proxy' was removed in CoreDNS 1.6.0; read as 'forward' with the same zone and upstreams`,
    'netlet serves this Corefile.',
  ]);
});

t.test('every refusal at once', async (t) => {
  const dir = await filesIn(t, { Corefile: '. {\n dnssec\n kubernetes cluster.local {\n  multicluster clusterset.local\n }\n fanout . 1.1.1.1\n forward . 10.0.0.1\n}\n' });
  const r = await checkCorefile(join(dir, 'Corefile'));
  t.equal(r.ok, false);
  const lines = r.text.split('\n').filter(Boolean);
  t.strictSame(lines.filter((l) => l.startsWith('refused')), [
    `refused: ${dir}/Corefile line 2: plugin 'dnssec' is not supported by netlet`,
    `refused: ${dir}/Corefile line 4: 'kubernetes multicluster' zone 'clusterset.local.' is not one of the kubernetes zones (cluster.local.): name it after 'kubernetes' too`,
    `refused: ${dir}/Corefile line 6: plugin 'fanout' is not a plugin CoreDNS ships (an external plugin, or a typo)`,
  ]);
  t.match(lines[1], /runs, in this order: forward/, 'what is not refused still shows');
  t.match(lines.at(-1), /netlet refuses this Corefile/);
});

t.test('the clusterset zones kubernetes multicluster answers, and what they are read from', async (t) => {
  const dir = await filesIn(t, { Corefile: '. {\n kubernetes cluster.local clusterset.local {\n  multicluster clusterset.local\n }\n}\n' });
  const r = await checkCorefile(join(dir, 'Corefile'));
  t.equal(r.ok, true);
  t.match(r.text, /clusterset zones \(kubernetes multicluster; netlet dns only, refused in the agent\): clusterset\.local\. from ServiceImports \(multicluster\.x-k8s\.io\/v1alpha1, CRD and RBAC needed\) and EndpointSlices labelled multicluster\.kubernetes\.io\/service-name\n/);
});

t.test('a syntax error stops the reading', async (t) => {
  const dir = await filesIn(t, { Corefile: '. {\n errors\n' });
  const r = await checkCorefile(join(dir, 'Corefile'));
  t.equal(r.ok, false);
  t.match(r.text, /refused: .*Corefile line 2: missing '\}'/);
  const missing = await checkCorefile(join(dir, 'nope'));
  t.match(missing.text, /cannot read .*nope/);
});

t.test('the API settings are listed, for netlet dns', async (t) => {
  const dir = await filesIn(t, { Corefile: '. {\n kubernetes cluster.local {\n  endpoint https://10.0.0.1:6443\n  tls c.pem k.pem ca.pem\n  labels app=web\n  apiserver_qps 20\n  apiserver_max_inflight 4\n }\n}\n' });
  const r = await checkCorefile(join(dir, 'Corefile'));
  t.equal(r.ok, true);
  t.match(r.text, /API access \(netlet dns only; refused in the agent\): endpoint https:\/\/10\.0\.0\.1:6443 \(client certificate c\.pem\); labels app=web; at most 20 requests\/s, bursts of 10; at most 4 requests in flight\n/);
});
