import t from 'tap';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { eventually } from '../../helpers/netns.ts';
import { freePort } from '../../helpers/free-port.ts';
import { rawService, rawSlice } from './reflector-fixtures.ts';

// The real `netlet agent` process (proxy off, DNS off): the first run writes
// the snapshot; the second starts while the API server is down and serves
// the snapshot, saying so in its log, /healthz and /metrics; then the API
// server returns and the agent goes back online.

const root = join(import.meta.dirname, '..', '..', '..');

function agent(args: string[]): { proc: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [join(root, 'bin', 'netlet.js'), 'agent', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, stderr: () => err, exited };
}

t.test('netlet agent serves its snapshot while the API server is down at start, then goes back online', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-offline-proc-'));
  const server = await startApiServer();
  const apiPort = server.port;
  const healthz = await freePort();
  const metricsPort = await freePort();
  const config = join(dir, 'netlet.yaml');
  await writeFile(config, `healthzBindAddress: 127.0.0.1:${healthz}\nmetricsBindAddress: 127.0.0.1:${metricsPort}\n`);
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: server.url });
  const snapshot = join(dir, 'snapshot.json');
  const args = ['--config', config, '--kubeconfig', kubeconfig, '--snapshot', snapshot, '--proxy-mode', 'none', '--node-name', 'n1'];
  const running: ChildProcess[] = [];
  t.teardown(async () => {
    for (const p of running) if (p.exitCode === null) p.kill('SIGKILL');
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 5; i++) server.create(rawService('default', i));
  for (let i = 0; i < 5; i++) server.create(rawSlice('default', i));

  const get = async (port: number, path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { code: res.status, text: await res.text() };
  };
  const metric = async (name: string) => {
    const text = (await get(metricsPort, '/metrics')).text;
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };

  // First run: online; the snapshot is written; SIGTERM flushes it.
  const first = agent(args);
  running.push(first.proc);
  await eventually(async () => (await get(healthz, '/healthz')).code === 200, 20_000);
  t.equal(await metric('netlet_offline'), 0);
  t.match((await get(metricsPort, '/metrics')).text, /netlet_api_objects\{kind="Service"\} 5/);
  first.proc.kill('SIGTERM');
  t.equal(await first.exited, 0, 'clean exit on SIGTERM');
  t.ok((await stat(snapshot)).size > 0, 'the snapshot was written');

  // Second run: the API server is down.
  await server.close();
  const second = agent(args);
  running.push(second.proc);
  await eventually(async () => (await get(healthz, '/healthz')).code === 200, 20_000);
  const body = JSON.parse((await get(healthz, '/healthz')).text);
  t.equal(body.offline, true, '/healthz says offline');
  t.match(body.snapshotTime, /^\d{4}-/);
  t.equal(await metric('netlet_offline'), 1);
  t.match((await get(metricsPort, '/metrics')).text, /netlet_api_objects\{kind="EndpointSlice"\} 5/);
  t.match(second.stderr(), /serving the last known state from the snapshot/);

  // The API server returns.
  server.create(rawService('default', 9));
  await server.listen('127.0.0.1', apiPort);
  await eventually(async () => (await metric('netlet_offline')) === 0, 20_000);
  t.equal(JSON.parse((await get(healthz, '/healthz')).text).offline, undefined);
  t.match((await get(metricsPort, '/metrics')).text, /netlet_api_objects\{kind="Service"\} 6/);
  t.match(second.stderr(), /API server reachable again/);
  second.proc.kill('SIGTERM');
  t.equal(await second.exited, 0);
});
