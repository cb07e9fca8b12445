// HTTPS with an openssl-made CA: bearer token, client certificate,
// insecure-skip-tls-verify, 401 without credentials, and a required client
// certificate refused at the TLS handshake. kubectl reads kubeconfigs written
// by kubeconfig.ts; undici talks to the server directly.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { startApiServer } from '../../apiserver/server.ts';
import { makeCerts, readPem } from '../../apiserver/certs.ts';
import type { TestCerts } from '../../apiserver/certs.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import type { KubeconfigOptions } from '../../apiserver/kubeconfig.ts';

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // stdin closed: kubectl asks for a username on a terminal-less 401 otherwise.
  const child = spawn('/usr/bin/kubectl', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
}

let dir = '';
let certs: TestCerts;

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netlet-api-tls-'));
  certs = await makeCerts(join(dir, 'pki'));
});
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('kubectl over HTTPS: client cert, token + embedded CA, insecure-skip-tls-verify, none', async (t) => {
  const api = await startApiServer({
    token: 'tok-123',
    tls: { cert: certs.serverCert, key: certs.serverKey, clientCA: certs.caCert },
  });
  t.teardown(() => api.close());
  t.match(api.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  api.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } });
  const rows: [string, Omit<KubeconfigOptions, 'server'>, boolean][] = [
    ['client certificate (files) + CA file', { caFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey }, true],
    ['client certificate embedded', { caFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey, embed: true }, true],
    ['token + embedded CA', { caFile: certs.caCert, token: 'tok-123', embed: true }, true],
    ['token + insecure-skip-tls-verify', { insecureSkipTlsVerify: true, token: 'tok-123' }, true],
    ['wrong token', { caFile: certs.caCert, token: 'nope' }, false],
    ['no credentials', { caFile: certs.caCert }, false],
  ];
  for (const [name, opts, ok] of rows) {
    const kc = await writeKubeconfig(join(dir, `kc-${name.replace(/\W+/g, '-')}`), { server: api.url, ...opts });
    const r = await kubectl(['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), 'get', 'nodes', '-o', 'name']);
    if (ok) {
      t.equal(r.code, 0, `${name}: ${r.stderr}`);
      t.equal(r.stdout.trim(), 'node/node-a', name);
    } else {
      t.not(r.code, 0, name);
      t.notMatch(r.stdout, /node-a/, name);
      // kubectl prints "Unauthorized" for a rejected token, and prompts for a password (EOF here) when it has none.
      t.match(r.stderr, /Unauthorized|error: EOF/, name);
      t.ok(api.stats.log().some((l) => l.code === 401), `${name}: the server answered 401`);
    }
    api.resetStats();
  }
  const own = await api.writeKubeconfig(join(dir, 'kc-own'), { caFile: certs.caCert });
  const viaOwn = await kubectl(['--kubeconfig', own, '--cache-dir', join(dir, 'cache'), 'get', 'nodes', '-o', 'name']);
  t.equal(viaOwn.stdout.trim(), 'node/node-a', 'api.writeKubeconfig carries the server’s token');
  const untrusted = await writeKubeconfig(join(dir, 'kc-untrusted'), { server: api.url, token: 'tok-123' });
  const r = await kubectl(['--kubeconfig', untrusted, '--cache-dir', join(dir, 'cache'), 'get', 'nodes']);
  t.match(r.stderr, /certificate signed by unknown authority/, 'without the CA the server is not trusted');
});

t.test('undici: 401 Status without credentials, token, client certificate', async (t) => {
  const api = await startApiServer({ token: 'tok', tls: { cert: certs.serverCert, key: certs.serverKey, clientCA: certs.caCert } });
  t.teardown(() => api.close());
  const ca = await readPem(certs.caCert);
  const plain = new Agent({ connect: { ca } });
  const withCert = new Agent({ connect: { ca, cert: await readPem(certs.clientCert), key: await readPem(certs.clientKey) } });
  t.teardown(() => Promise.all([plain.close(), withCert.close()]));
  const anon = await undiciFetch(`${api.url}/api/v1/nodes`, { dispatcher: plain });
  t.equal(anon.status, 401);
  t.same(await anon.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  const tok = await undiciFetch(`${api.url}/api/v1/nodes`, { dispatcher: plain, headers: { authorization: 'Bearer tok' } });
  t.equal(tok.status, 200);
  const cert = await undiciFetch(`${api.url}/api/v1/nodes`, { dispatcher: withCert });
  t.equal(cert.status, 200);
  t.equal(api.requestCount('list', 'nodes'), 3, 'the refused request is counted too');
});

t.test('requireClientCert refuses a TLS client without a certificate', async (t) => {
  const api = await startApiServer({ tls: { cert: certs.serverCert, key: certs.serverKey, clientCA: certs.caCert, requireClientCert: true } });
  t.teardown(() => api.close());
  const ca = await readPem(certs.caCert);
  const plain = new Agent({ connect: { ca } });
  const withCert = new Agent({ connect: { ca, cert: await readPem(certs.clientCert), key: await readPem(certs.clientKey) } });
  t.teardown(() => Promise.all([plain.close(), withCert.close()]));
  await t.rejects(undiciFetch(`${api.url}/version`, { dispatcher: plain }), 'handshake refused');
  const ok = await undiciFetch(`${api.url}/version`, { dispatcher: withCert });
  t.match(await ok.json(), { major: '1', gitVersion: /^v1\./ });
});
