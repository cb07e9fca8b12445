// The Corefile's `kubernetes { kubeconfig FILE CONTEXT }`: `netlet dns` uses
// the named context, not the file's current-context (which here points at a
// cluster the file does not define, so using it would stop the command).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { startApiServer } from '../../apiserver/server.ts';
import { eventually, sh } from '../../helpers/netns.ts';

const netlet = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

t.test('netlet dns uses the Corefile kubeconfig context', async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const dir = await mkdtemp(join(tmpdir(), 'netlet-dns-kctx-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = await api.writeKubeconfig(join(dir, 'kubeconfig'));
  const doc = parse(await readFile(kubeconfig, 'utf8'));
  const real = doc['current-context'];
  doc.contexts.push({ name: 'elsewhere', context: { cluster: 'not-defined', user: doc.contexts[0].context.user } });
  doc['current-context'] = 'elsewhere';
  await writeFile(kubeconfig, stringify(doc));
  const corefile = join(dir, 'Corefile');
  await writeFile(corefile, `. {\n  kubernetes cluster.local {\n    kubeconfig ${kubeconfig} ${real}\n  }\n}\n`);

  const web = api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } });
  const webIP: string = web.spec.clusterIP;

  const child = spawn(process.execPath, [netlet, 'dns', '--corefile', corefile, '--listen', '127.0.0.1:0', '--health', '', '--ready', '', '--metrics', ''], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const port: string = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log)?.[1] ?? '', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  const dig = async (name: string) => (await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', '+short', name])).trim();
  t.equal(await eventually(async () => ((await dig('web.shop.svc.cluster.local')) === webIP ? webIP : ''), 20_000), webIP, 'served from the named context');
  t.match(log, new RegExp(`context ${real}`), 'the log names the context used');

  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0);
});
