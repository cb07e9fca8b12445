// The agent's identity for netlet-cni (publish-identity.ts): written whole,
// mode 0600, and again when the token rotates, as kubelet rotates a
// projected service-account token; the plugin's loader reads it back.
import t from 'tap';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../src/base/log.ts';
import { publishIdentity } from '../../../src/agent/publish-identity.ts';
import { FileToken } from '../../../src/k8s/token-source.ts';
import { loadKubeconfigFile } from '../../../src/k8s/kubeconfig.ts';
import { eventually } from '../../helpers/netns.ts';

t.test('written at once, 0600, and rewritten when the token rotates', async (t) => {
  const dir = t.testdir();
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 'first-token\n');
  const conn = { server: 'https://10.0.0.1:6443', ca: Buffer.from('CA'), insecureSkipTLSVerify: false, namespace: 'netlet-system', source: 'in-cluster', token: new FileToken(tokenFile, { maxAgeMs: 0 }) };
  const file = join(dir, 'run', 'kubeconfig');
  const published = await publishIdentity(conn, file, silentLogger, 20);
  t.teardown(() => published.stop());
  t.equal((await stat(file)).mode & 0o777, 0o600, 'only root may read it');
  t.equal(await (await loadKubeconfigFile(file)).token?.token(), 'first-token');
  await writeFile(tokenFile, 'rotated-token\n');
  await eventually(async () => (await readFile(file, 'utf8')).includes('rotated-token'), 5_000, 20);
  const back = await loadKubeconfigFile(file);
  t.equal(await back.token?.token(), 'rotated-token', 'the rotated token is published');
  t.equal(back.server, conn.server);
  t.same(back.ca, conn.ca);
});
