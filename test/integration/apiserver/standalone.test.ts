// The standalone server (main.ts) as another process: on loopback with its
// port/url/kubeconfig files, and inside a network namespace reached from a
// second namespace over a veth (how agent tests use it), with TLS and the
// /_test/ controls driven by curl.
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnApiServer } from '../../apiserver/spawn.ts';
import { Lab, rootSkip } from '../../helpers/netns.ts';

let dir = '';
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netlet-api-main-'));
});
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('standalone on loopback: port/url/kubeconfig files, YAML seed file, clean stop', async (t) => {
  const seed = join(dir, 'seed.yaml');
  await writeFile(
    seed,
    'apiVersion: v1\nkind: Node\nmetadata: {name: seeded}\n---\napiVersion: v1\nkind: List\nitems:\n' +
      '- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {ports: [{port: 80}]}}\n',
  );
  const server = await spawnApiServer({
    args: ['--listen', '127.0.0.1:0', '--port-file', join(dir, 'port'), '--url-file', join(dir, 'url'), '--kubeconfig', join(dir, 'kc'), '--seed', seed],
  });
  t.teardown(() => server.stop());
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.equal((await readFile(join(dir, 'url'), 'utf8')).trim(), server.url);
  t.equal(`http://127.0.0.1:${(await readFile(join(dir, 'port'), 'utf8')).trim()}`, server.url);
  t.match(await readFile(join(dir, 'kc'), 'utf8'), `server: ${server.url}`);
  const nodes: any = await (await fetch(`${server.url}/api/v1/nodes`)).json();
  t.same(nodes.items.map((n: any) => n.metadata.name), ['seeded']);
  const svcs: any = await (await fetch(`${server.url}/api/v1/services`)).json();
  t.same(svcs.items.map((s: any) => s.metadata.name), ['web'], 'multi-document YAML with a List');
  await server.stop();
  t.equal(server.child.exitCode, 0, 'SIGTERM stops it cleanly');
});

t.test('standalone inside a network namespace, with TLS, used from another namespace', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('api');
  t.teardown(() => lab.cleanup());
  const apiNs = await lab.netns('api');
  const agentNs = await lab.netns('agent');
  await lab.link(apiNs, agentNs, '10.77.0.1/24', '10.77.0.2/24');
  const tls = join(dir, 'tls');
  const server = await spawnApiServer({
    wrap: ['ip', 'netns', 'exec', apiNs.name],
    args: ['--listen', '10.77.0.1:6443', '--tls-dir', tls, '--token', 'agent-token', '--kubeconfig', join(dir, 'ns-kc')],
  });
  lab.track(server.child);
  t.teardown(() => server.stop());
  t.equal(server.url, 'https://10.77.0.1:6443');
  const curl = (...args: string[]): Promise<string> => agentNs.exec('curl', ['-sS', '--cacert', join(tls, 'ca.crt'), ...args]);
  const listed = JSON.parse(await curl('-H', 'Authorization: Bearer agent-token', `${server.url}/api/v1/namespaces`));
  t.equal(listed.kind, 'NamespaceList');
  t.equal(listed.items.length, 4);
  const viaCert = JSON.parse(await curl('--cert', join(tls, 'client.crt'), '--key', join(tls, 'client.key'), `${server.url}/api/v1/nodes`));
  t.equal(viaCert.kind, 'NodeList', 'the client certificate made by --tls-dir is accepted');
  const denied = JSON.parse(await curl(`${server.url}/api/v1/nodes`));
  t.equal(denied.code, 401);
  const kubectl = await agentNs.exec('kubectl', ['--kubeconfig', join(dir, 'ns-kc'), '--cache-dir', join(dir, 'cache'), 'get', 'ns', '-o', 'name']);
  t.same(kubectl.trim().split('\n'), ['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
  // Fault controls over HTTP from the agent's namespace.
  await curl('-X', 'POST', '-d', '{"fail":{"count":1,"code":500,"resource":"nodes"}}', `${server.url}/_test/faults`);
  const failed = JSON.parse(await curl('-H', 'Authorization: Bearer agent-token', `${server.url}/api/v1/nodes`));
  t.match(failed, { kind: 'Status', code: 500, reason: 'InternalError' });
  const stats = JSON.parse(await curl(`${server.url}/_test/stats`));
  t.equal(stats.requests['list nodes'], 3);
});
