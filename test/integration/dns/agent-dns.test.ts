// `netlet agent --dns`: the agent runs the DNS component over its store.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, sh } from '../../helpers/netns.ts';

const netlet = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

t.test('netlet agent --dns answers from the agent store', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-agent-dns-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'config.yaml'), 'healthzBindAddress: 127.0.0.1:0\nmetricsBindAddress: 127.0.0.1:0\ndns:\n  listen: 127.0.0.1:0\n');
  await mkdir(join(dir, 'manifests'));
  await writeFile(
    join(dir, 'manifests', 'web.yaml'),
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  clusterIP: 10.96.8.8\n  ports: [{name: http, port: 80}]\n',
  );
  const child = spawn(process.execPath, [netlet, 'agent', '--config', join(dir, 'config.yaml'), '--manifests', join(dir, 'manifests'), '--proxy-mode', 'none', '--dns'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const port: string = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log)?.[1] ?? '', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log}`);
  });
  const answer = await eventually(async () => (await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', '+short', 'web.default.svc.cluster.local'])).trim());
  t.equal(answer, '10.96.8.8');
  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0, 'stops cleanly');
});

