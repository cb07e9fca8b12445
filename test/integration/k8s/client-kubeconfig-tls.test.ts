import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ApiClient, ApiError, ApiUnreachableError } from '../../../src/k8s/client.ts';
import { loadKubeconfigFile } from '../../../src/k8s/kubeconfig.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { makeCerts } from '../../apiserver/certs.ts';
import type { TestCerts } from '../../apiserver/certs.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import type { KubeconfigOptions } from '../../apiserver/kubeconfig.ts';
import { startApiServer } from '../../apiserver/server.ts';
import type { ApiServer } from '../../apiserver/server.ts';
import { fastReflector, rawService } from './reflector-fixtures.ts';

// Every way a kubeconfig can authenticate, over real TLS against the test API
// server: CA file and embedded CA, bearer token, token file (rotated), client
// certificate, insecure-skip-tls-verify, and the failures that must be clear.

let dir: string;
let certs: TestCerts;
let tokenServer: ApiServer;
let certServer: ApiServer;

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netlet-k8s-tls-'));
  certs = await makeCerts(join(dir, 'pki'));
  tokenServer = await startApiServer({ tls: { cert: certs.serverCert, key: certs.serverKey }, token: 'secret-token' });
  certServer = await startApiServer({ tls: { cert: certs.serverCert, key: certs.serverKey, clientCA: certs.caCert } });
  tokenServer.create(rawService('default', 1));
  certServer.create(rawService('default', 1));
});

t.teardown(async () => {
  await tokenServer?.close();
  await certServer?.close();
  await rm(dir, { recursive: true, force: true });
});

async function clientFor(name: string, o: Omit<KubeconfigOptions, 'server'>, server: ApiServer, edit?: (doc: any) => void): Promise<ApiClient> {
  const path = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
  await writeKubeconfig(path, { ...o, server: server.url });
  if (edit) {
    const doc = parse(await readFile(path, 'utf8'));
    edit(doc);
    await writeFile(path, stringify(doc));
  }
  return ApiClient.fromConnection(await loadKubeconfigFile(path));
}

const ok: { name: string; server: () => ApiServer; o: () => Omit<KubeconfigOptions, 'server'> }[] = [
  { name: 'bearer token, CA file', server: () => tokenServer, o: () => ({ token: 'secret-token', caFile: certs.caCert }) },
  { name: 'bearer token, embedded CA', server: () => tokenServer, o: () => ({ token: 'secret-token', caFile: certs.caCert, embed: true }) },
  { name: 'client certificate files, CA file', server: () => certServer, o: () => ({ caFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey }) },
  { name: 'client certificate embedded', server: () => certServer, o: () => ({ caFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey, embed: true }) },
  { name: 'insecure-skip-tls-verify with a token', server: () => tokenServer, o: () => ({ token: 'secret-token', insecureSkipTlsVerify: true }) },
];

for (const row of ok) {
  t.test(`works: ${row.name}`, async (t) => {
    const client = await clientFor(row.name, row.o(), row.server());
    t.teardown(() => client.close());
    const list = await client.list('/api/v1/namespaces/default/services');
    t.same(list.items.map((s: any) => s.metadata.name), ['svc-1']);
  });
}

t.test('a reflector syncs and watches over TLS with a client certificate', async (t) => {
  const client = await clientFor('reflector', { caFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey }, certServer);
  const store = new ObjectStore();
  const refl = fastReflector(client, store, 'Service');
  t.teardown(async () => {
    await refl.stop();
    await client.close();
  });
  refl.start();
  await store.whenSynced('Service');
  certServer.create(rawService('default', 2));
  await new Promise<void>((resolve) => store.subscribe((c) => c.key === 'default/svc-2' && resolve()));
  t.equal(store.count('Service'), 2);
});

t.test('token file: a rotated token is picked up right after a 401', async (t) => {
  const tokenPath = join(dir, 'token');
  await writeFile(tokenPath, 'old-token');
  const client = await clientFor('token-file', { caFile: certs.caCert }, tokenServer, (doc) => {
    doc.users[0].user.tokenFile = tokenPath;
  });
  t.teardown(() => client.close());
  await writeFile(tokenPath, 'secret-token\n'); // rotated after the kubeconfig was loaded
  tokenServer.resetStats();
  const list = await client.list('/api/v1/namespaces/default/services');
  t.equal(list.items.length, 1);
  t.same(tokenServer.stats.log().map((e) => e.code), [401, 200], 'one 401 with the old token, then the new one');
  await client.list('/api/v1/namespaces/default/services');
  t.equal(tokenServer.stats.log().at(-1)?.code, 200, 'the new token is kept');
});

t.test('tls-server-name is the name the certificate is checked against', async (t) => {
  const good = await clientFor('sni-good', { token: 'secret-token', caFile: certs.caCert }, tokenServer, (doc) => {
    doc.clusters[0].cluster['tls-server-name'] = 'localhost';
  });
  const bad = await clientFor('sni-bad', { token: 'secret-token', caFile: certs.caCert }, tokenServer, (doc) => {
    doc.clusters[0].cluster['tls-server-name'] = 'wrong.example';
  });
  t.teardown(() => Promise.all([good.close(), bad.close()]));
  t.equal((await good.list('/api/v1/namespaces/default/services')).items.length, 1);
  await t.rejects(bad.list('/api/v1/services'), { code: 'ERR_API_UNREACHABLE', message: /ALTNAME|wrong\.example/ });
});

const failing: { name: string; server: () => ApiServer; o: () => Omit<KubeconfigOptions, 'server'>; error: object; type: unknown }[] = [
  { name: 'unknown CA (no certificate-authority)', server: () => tokenServer, o: () => ({ token: 'secret-token' }), error: { code: 'ERR_API_UNREACHABLE', message: /SELF_SIGNED|UNABLE_TO|certificate/i }, type: ApiUnreachableError },
  { name: 'wrong token', server: () => tokenServer, o: () => ({ token: 'nope', caFile: certs.caCert }), error: { status: 401, code: 'ERR_API_UNAUTHORIZED' }, type: ApiError },
  { name: 'no client certificate where one is needed', server: () => certServer, o: () => ({ caFile: certs.caCert }), error: { status: 401 }, type: ApiError },
];

for (const row of failing) {
  t.test(`fails clearly: ${row.name}`, async (t) => {
    const client = await clientFor(row.name, row.o(), row.server());
    t.teardown(() => client.close());
    const err = await client.list('/api/v1/services').catch((e: unknown) => e);
    t.ok(err instanceof (row.type as typeof Error), String(err));
    t.match(err, row.error);
  });
}
