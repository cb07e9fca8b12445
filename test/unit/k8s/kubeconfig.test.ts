import t from 'tap';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfigFile, resolveConnection } from '../../../src/k8s/kubeconfig.ts';
import { loadInClusterConfig } from '../../../src/k8s/in-cluster.ts';
import { FileToken } from '../../../src/k8s/token-source.ts';

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-kc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'main',
    contexts: [
      { name: 'other', context: { cluster: 'nowhere', user: 'nobody' } },
      { name: 'main', context: { cluster: 'c1', user: 'u1', namespace: 'kube-system' } },
    ],
    clusters: [{ name: 'c1', cluster: { server: 'https://10.0.0.1:6443', ...cluster } }],
    users: [{ name: 'u1', user }],
    ...extra,
  });
}

t.test('current-context resolves cluster, CA, token and namespace', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config');
  await writeFile(path, kubeconfig({ 'certificate-authority-data': Buffer.from('CA PEM').toString('base64') }, { token: 'abc' }));
  const conn = await loadKubeconfigFile(path);
  t.equal(conn.server, 'https://10.0.0.1:6443');
  t.equal(conn.ca?.toString(), 'CA PEM');
  t.equal(conn.insecureSkipTLSVerify, false);
  t.equal(await conn.token?.token(), 'abc');
  t.equal(conn.namespace, 'kube-system');
  t.match(conn.source, /context main/);
});

t.test('YAML with file references resolved against the kubeconfig folder', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'pki'));
  await writeFile(join(dir, 'pki', 'ca.crt'), 'CA FILE');
  await writeFile(join(dir, 'pki', 'me.crt'), 'CERT FILE');
  await writeFile(join(dir, 'pki', 'me.key'), 'KEY FILE');
  const path = join(dir, 'config');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: main',
      'contexts:',
      '- name: main',
      '  context: {cluster: c1, user: u1}',
      'clusters:',
      '- name: c1',
      '  cluster:',
      '    server: https://k8s.example:6443',
      '    certificate-authority: pki/ca.crt',
      'users:',
      '- name: u1',
      '  user:',
      '    client-certificate: pki/me.crt',
      '    client-key: pki/me.key',
    ].join('\n'),
  );
  const conn = await loadKubeconfigFile(path);
  t.equal(conn.ca?.toString(), 'CA FILE');
  t.equal(conn.cert?.toString(), 'CERT FILE');
  t.equal(conn.key?.toString(), 'KEY FILE');
  t.equal(conn.token, undefined);
  t.equal(conn.namespace, 'default');
});

t.test('insecure-skip-tls-verify and tokenFile', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'tok'), 'from-file\n');
  const path = join(dir, 'config');
  await writeFile(path, kubeconfig({ 'insecure-skip-tls-verify': true }, { tokenFile: 'tok' }));
  const conn = await loadKubeconfigFile(path);
  t.equal(conn.insecureSkipTLSVerify, true);
  t.ok(conn.token instanceof FileToken);
  t.equal(await conn.token?.token(), 'from-file');
});

const errorRows: { name: string; cluster?: Record<string, unknown>; user?: Record<string, unknown>; extra?: Record<string, unknown>; code: string; message: RegExp }[] = [
  { name: 'current-context names a missing context', extra: { 'current-context': 'ghost' }, code: 'ERR_KUBECONFIG_CONTEXT', message: /context "ghost" is not defined/ },
  { name: 'no current-context', extra: { 'current-context': '' }, code: 'ERR_KUBECONFIG_CONTEXT', message: /no current-context/ },
  { name: 'context names a missing cluster', extra: { 'current-context': 'other' }, code: 'ERR_KUBECONFIG_CLUSTER', message: /cluster "nowhere" \(of context "other"\) is not defined/ },
  { name: 'cluster without server', cluster: { server: '' }, code: 'ERR_KUBECONFIG_CLUSTER', message: /cluster "c1" has no server/ },
  { name: 'missing CA file', cluster: { 'certificate-authority': 'no-such-ca.crt' }, code: 'ERR_KUBECONFIG_FILE', message: /no-such-ca\.crt/ },
  { name: 'missing token file', user: { tokenFile: 'no-such-token' }, code: 'ERR_KUBECONFIG_FILE', message: /no-such-token/ },
  { name: 'certificate without key', user: { 'client-certificate-data': 'QQ==' }, code: 'ERR_KUBECONFIG_INVALID', message: /both client-certificate and client-key/ },
  { name: 'exec plugin', user: { exec: { command: 'aws' } }, code: 'ERR_KUBECONFIG_UNSUPPORTED', message: /uses exec/ },
];

for (const row of errorRows) {
  t.test(`error: ${row.name}`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'config');
    await writeFile(path, kubeconfig(row.cluster ?? {}, row.user ?? { token: 'x' }, row.extra));
    await t.rejects(loadKubeconfigFile(path), { code: row.code, message: row.message });
  });
}

t.test('error: context names a missing user', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config');
  const doc = JSON.parse(kubeconfig({}, {}));
  doc.users = [];
  await writeFile(path, JSON.stringify(doc));
  await t.rejects(loadKubeconfigFile(path), { code: 'ERR_KUBECONFIG_USER', message: /user "u1"/ });
});

t.test('error: missing kubeconfig file and bad YAML name the file', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(loadKubeconfigFile(join(dir, 'absent')), { code: 'ERR_KUBECONFIG_FILE', message: /absent/ });
  await writeFile(join(dir, 'bad'), 'clusters: [oops');
  await t.rejects(loadKubeconfigFile(join(dir, 'bad')), { code: 'ERR_KUBECONFIG_INVALID', message: /bad: not valid YAML/ });
});

t.test('default chain: explicit path, $KUBECONFIG (first existing), in-cluster, ~/.kube/config', async (t) => {
  const dir = await tempDir(t);
  const mk = async (name: string, server: string) => {
    const p = join(dir, name);
    const doc = JSON.parse(kubeconfig({}, { token: 't' }));
    doc.clusters[0].cluster.server = server;
    await writeFile(p, JSON.stringify(doc));
    return p;
  };
  const explicit = await mk('explicit', 'https://explicit:1');
  const fromEnv = await mk('env', 'https://env:1');
  await mkdir(join(dir, 'home', '.kube'), { recursive: true });
  await mk('home/.kube/config', 'https://home:1');
  const sa = join(dir, 'sa');
  await mkdir(sa);
  await writeFile(join(sa, 'token'), 'sa-token');
  await writeFile(join(sa, 'ca.crt'), 'SA CA');
  await writeFile(join(sa, 'namespace'), 'netlet-system');
  const podEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const home = join(dir, 'home');

  const rows: { name: string; opts: Parameters<typeof resolveConnection>[0]; server: string }[] = [
    { name: 'explicit path wins', opts: { kubeconfig: explicit, env: { KUBECONFIG: fromEnv, ...podEnv }, home }, server: 'https://explicit:1' },
    { name: 'KUBECONFIG list: first existing file', opts: { env: { KUBECONFIG: `${join(dir, 'missing')}:${fromEnv}:${explicit}`, ...podEnv }, home }, server: 'https://env:1' },
    { name: 'in-cluster before home', opts: { env: podEnv, home, inCluster: { dir: sa } }, server: 'https://10.96.0.1:443' },
    { name: 'home config last', opts: { env: {}, home }, server: 'https://home:1' },
  ];
  for (const row of rows) {
    const conn = await resolveConnection(row.opts);
    t.equal(conn.server, row.server, row.name);
  }
  await t.rejects(resolveConnection({ env: {}, home: join(dir, 'nohome') }), { code: 'ERR_KUBECONFIG_NOT_FOUND', message: /--kubeconfig/ });
});

t.test('in-cluster: token, CA, namespace from the folder; IPv6 host bracketed', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'token'), 'tok1\n');
  await writeFile(join(dir, 'ca.crt'), 'CA');
  const conn = await loadInClusterConfig({ dir, env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' } });
  t.equal(conn.server, 'https://[fd00::1]:443');
  t.equal(conn.ca?.toString(), 'CA');
  t.equal(conn.namespace, 'default');
  t.equal(await conn.token?.token(), 'tok1');
  await rm(join(dir, 'ca.crt'));
  await t.rejects(loadInClusterConfig({ dir, env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' } }), { code: 'ERR_KUBECONFIG_FILE', message: /ca\.crt/ });
  await t.rejects(loadInClusterConfig({ dir, env: {} }), { code: 'ERR_KUBECONFIG_NOT_FOUND' });
});

t.test('a rotating token file is re-read after maxAge and after invalidate()', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'token');
  await writeFile(path, 'one');
  let now = 1000;
  const tok = new FileToken(path, { maxAgeMs: 60_000, now: () => now });
  t.equal(await tok.token(), 'one');
  await writeFile(path, 'two');
  now += 30_000;
  t.equal(await tok.token(), 'one', 'cached within a minute');
  now += 31_000;
  t.equal(await tok.token(), 'two', 're-read after a minute');
  await writeFile(path, 'three');
  tok.invalidate();
  t.equal(await tok.token(), 'three', 're-read at once after a 401');
  await rm(path);
  tok.invalidate();
  t.equal(await tok.token(), 'three', 'a failed re-read keeps the last good token');
});

t.test('resolveConnection with a context uses it instead of current-context', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'kc');
  await writeFile(file, kubeconfig({}, { token: 't' }, {
    'current-context': 'other',
    clusters: [{ name: 'c1', cluster: { server: 'https://10.0.0.1:6443' } }, { name: 'nowhere', cluster: { server: 'https://10.9.9.9:6443' } }],
    users: [{ name: 'u1', user: { token: 't' } }, { name: 'nobody', user: { token: 'n' } }],
  }));
  t.equal((await resolveConnection({ kubeconfig: file, env: {} })).server, 'https://10.9.9.9:6443', 'without: current-context');
  const conn = await resolveConnection({ kubeconfig: file, context: 'main', env: {} });
  t.equal(conn.server, 'https://10.0.0.1:6443', 'with: the named context');
  t.match(conn.source, /context main/);
  await t.rejects(resolveConnection({ kubeconfig: file, context: 'absent', env: {} }), { code: 'ERR_KUBECONFIG_CONTEXT' });
});
