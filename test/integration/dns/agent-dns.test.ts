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


t.test('with a Corefile the agent serves its health/ready endpoints and follows reload', async (t) => {
  const { createServer } = await import('node:net');
  const freePort = async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const p = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    return p;
  };
  const [health, ready] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'netlet-agent-corefile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const corefile = (ttl: number) =>
    `.:53 {\n  health 127.0.0.1:${health}\n  ready 127.0.0.1:${ready}\n  reload 2s 1s\n  kubernetes cluster.local {\n    ttl ${ttl}\n  }\n}\n`;
  await writeFile(join(dir, 'Corefile'), corefile(5));
  await writeFile(
    join(dir, 'config.yaml'),
    `healthzBindAddress: 127.0.0.1:0\nmetricsBindAddress: 127.0.0.1:0\ndns:\n  enabled: true\n  listen: 127.0.0.1:0\n  corefile: ${join(dir, 'Corefile')}\n`,
  );
  await mkdir(join(dir, 'manifests'));
  await writeFile(
    join(dir, 'manifests', 'web.yaml'),
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  clusterIP: 10.96.8.8\n  ports: [{name: http, port: 80}]\n',
  );
  const child = spawn(process.execPath, [netlet, 'agent', '--config', join(dir, 'config.yaml'), '--manifests', join(dir, 'manifests'), '--proxy-mode', 'none'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const get = async (port: number, path: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return `${r.status} ${await r.text()}`;
  };
  t.equal(await eventually(() => get(health, '/health'), 20_000).catch((e: Error) => { throw new Error(`${e.message}; log: ${log}`); }), '200 OK', '/health');
  t.equal(await eventually(async () => ((await get(ready, '/ready')).startsWith('200') ? get(ready, '/ready') : ''), 20_000), '200 OK', '/ready once synced');

  const ttlOf = async () => {
    const port = [...log.matchAll(/"port":(\d+)\}\],"zones"/g)].pop()?.[1];
    const out = await sh('dig', ['@127.0.0.1', '-p', port ?? '0', '+time=2', '+tries=1', '+noall', '+answer', 'web.default.svc.cluster.local']);
    return out.trim().split(/\s+/)[1];
  };
  t.equal(await eventually(ttlOf, 10_000), '5', 'the TTL of the Corefile');
  await writeFile(join(dir, 'Corefile'), corefile(42));
  t.equal(await eventually(async () => ((await ttlOf()) === '42' ? '42' : ''), 20_000), '42', 'reload applied the edited Corefile');
  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0, 'stops cleanly');
});
