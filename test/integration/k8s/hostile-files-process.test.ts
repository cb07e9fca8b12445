// Issue 13 (points 4, 5) against the real processes: an alias bomb in the
// manifest folder crashed `netlet agent` and `netlet dns` at every start
// while the file was there, and a 50 MB file took the agent to 1.97 GB.
// Both now start, report each file by name, and serve the rest.

import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../helpers/netns.ts';
import { freePort } from '../../helpers/free-port.ts';

const root = join(import.meta.dirname, '..', '..', '..');

const GOOD = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: 10.96.0.10, ports: [{name: http, port: 80}]}
`;

function aliasBomb(): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: lol}', 'data:', '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 10; i++) lines.push(`  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`);
  return lines.join('\n') + '\n';
}

async function hostileFolder(t: Tap.Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-hostile-files-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'good.yaml'), GOOD);
  await writeFile(join(dir, 'bomb.yaml'), aliasBomb());
  // Sparse: 50 MB of size and no data, so the test stays fast.
  const fh = await open(join(dir, 'huge.yaml'), 'w');
  await fh.truncate(50 * 1024 * 1024);
  await fh.close();
  return dir;
}

import type * as Tap from 'tap';

function run(t: Tap.Test, args: string[]): { stderr: () => string; alive: () => boolean } {
  const proc = spawn(process.execPath, [join(root, 'bin', 'netlet.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  proc.stdout!.on('data', (d) => (out += d));
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    if (!t.passing()) t.comment(out.slice(-3000));
  });
  return { stderr: () => out, alive: () => proc.exitCode === null && proc.signalCode === null };
}

const status = async (port: number, path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;

t.test('netlet agent starts beside an alias bomb and a 50 MB file, names both, serves the rest', async (t) => {
  const dir = await hostileFolder(t);
  const healthz = await freePort();
  const config = join(dir, '..', `${dir.split('/').pop()}.conf.yaml`);
  await writeFile(config, `healthzBindAddress: 127.0.0.1:${healthz}\nmetricsBindAddress: 127.0.0.1:${await freePort()}\n`);
  t.teardown(() => rm(config, { force: true }));
  const agent = run(t, ['agent', '--config', config, '--manifests', dir, '--proxy-mode', 'none', '--node-name', 'n1']);
  await eventually(async () => (await status(healthz, '/healthz')) === 200, 20_000, 100);
  await eventually(() => agent.stderr().includes('bomb.yaml') && agent.stderr().includes('huge.yaml'), 5_000, 50);
  t.ok(agent.alive(), 'still running');
  t.match(agent.stderr(), /bomb\.yaml[^\n]*alias/i, 'the bomb is named, with the reason');
  t.match(agent.stderr(), /huge\.yaml: 52428800 bytes is more than/, 'the big file is named, with its size');
});

t.test('netlet dns starts beside an alias bomb and a 50 MB file, names both, and answers', async (t) => {
  const dir = await hostileFolder(t);
  const health = await freePort();
  const ready = await freePort();
  const dns = run(t, ['dns', '--manifests', dir, '--listen', `127.0.0.1:${await freePort()}`, '--health', `127.0.0.1:${health}`, '--ready', `127.0.0.1:${ready}`, '--metrics', `127.0.0.1:${await freePort()}`]);
  await eventually(async () => (await status(ready, '/ready')) === 200, 20_000, 100);
  await eventually(() => dns.stderr().includes('bomb.yaml') && dns.stderr().includes('huge.yaml'), 5_000, 50);
  t.ok(dns.alive(), 'still running');
  t.equal(await status(health, '/health'), 200);
});
