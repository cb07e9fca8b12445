// The agent as users run it: a process started from bin/netlet.js with a
// config file and a manifest folder, observed only from outside (HTTP,
// stderr, exit code, signals).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSnapshot } from '../../../src/k8s/snapshot.ts';
import { eventually } from '../../helpers/netns.ts';
import { freePort } from '../../helpers/free-port.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/netlet.js');
const FIXTURE = join(ROOT, 'test/fixtures/manifests/basic');
// What `npx node` runs. The agent is spawned with it directly rather than
// through npx: npm exits on SIGTERM without passing it on, leaving the agent
// orphaned, so a signal test through npx would test npm, not netlet.
const NODE = join(ROOT, 'node_modules/.bin/node');

// Each case starts a whole agent; on a loaded 2-core machine that takes a while.
t.setTimeout(600_000);

interface TestLike {
  teardown(fn: () => unknown): void;
}

interface Agent {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(t: TestLike, args: string[]): Agent {
  const proc = spawn(NODE, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NETLET_LOG_LEVEL: '' } });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exit;
    }
  });
  return { proc, stdout: () => out, stderr: () => err, exit };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function setup(t: TestLike, configText = ''): Promise<{ dir: string; config: string; healthz: number; metrics: number }> {
  const work = await mkdtemp(join(tmpdir(), 'netlet-mf-agent-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const dir = join(work, 'manifests');
  await cp(FIXTURE, dir, { recursive: true });
  const healthz = await freePort();
  const metrics = await freePort();
  const config = join(work, 'netlet.yaml');
  await writeFile(config, `healthzBindAddress: 127.0.0.1:${healthz}\nmetricsBindAddress: 127.0.0.1:${metrics}\n${configText}`);
  return { dir, config, healthz, metrics };
}

const objectsGauge = (text: string, kind: string): number | undefined => {
  const m = new RegExp(`^netlet_objects\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

t.test('agent with a manifest folder: health, metrics, live reload, JSON logs, clean SIGTERM', async (t) => {
  const { dir, config, healthz, metrics } = await setup(t);
  const snapshot = join(dir, '..', 'state.json');
  const agent = run(t, ['agent', '--config', config, '--manifests', dir, '--proxy-mode', 'none', '--node-name', 'n1', '--snapshot', snapshot]);

  const health = (await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${healthz}/healthz`);
    return res.status === 200 ? res : undefined;
  }, 60_000))!;
  t.match(health.headers.get('content-type'), /application\/json/);
  const body = (await health.json()) as Record<string, unknown>;
  // kube-proxy's healthz body: lastUpdated, currentTime, nodeEligible.
  t.match(body, { lastUpdated: String, currentTime: String, nodeEligible: true });
  t.ok(!Number.isNaN(Date.parse(body.lastUpdated as string)) && !Number.isNaN(Date.parse(body.currentTime as string)), 'times are ISO 8601');
  t.equal((await fetch(`http://127.0.0.1:${healthz}/livez`)).status, 200, '/livez');
  t.equal((await fetch(`http://127.0.0.1:${healthz}/nope`)).status, 404);

  const res = await fetch(`http://127.0.0.1:${metrics}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/, 'Prometheus text format');
  const text = await res.text();
  t.equal(objectsGauge(text, 'Service'), 2, 'netlet_objects counts the manifest Services');
  t.equal(objectsGauge(text, 'EndpointSlice'), 1);
  t.equal(objectsGauge(text, 'Node'), 2);
  t.equal(objectsGauge(text, 'Pod'), 2);
  t.match(text, /^# TYPE netlet_objects gauge$/m);
  t.match(text, /^netlet_manifest_scans [1-9]/m);
  t.match(text, /^netlet_manifest_invalid_documents 0$/m);
  t.match(text, /^process_cpu_seconds_total /m, 'process metrics');
  t.match(text, /^nodejs_eventloop_lag_seconds /m, 'runtime metrics');

  // An edit to the folder reaches the running agent's store.
  await writeFile(join(dir, 'extra.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: extra, namespace: shop}\nspec: {clusterIP: 10.96.0.99}\n');
  await eventually(async () => objectsGauge(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text(), 'Service') === 3, 30_000);
  await writeFile(join(dir, 'broken.yaml'), 'kind: Service\nmetadata: {name: [\n');
  await eventually(async () => /^netlet_manifest_broken_files 1$/m.test(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text()), 30_000);
  t.equal((await fetch(`http://127.0.0.1:${healthz}/healthz`)).status, 200, 'a broken file does not make the agent unhealthy');

  agent.proc.kill('SIGTERM');
  const { code, signal } = await withTimeout(agent.exit, 30_000, 'exit after SIGTERM');
  t.equal(signal, null, 'not killed by the signal');
  t.equal(code, 0, 'exit status 0');
  t.equal(agent.stdout(), '', 'nothing on stdout');

  const lines = agent.stderr().split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  });
  t.same(lines.filter((_, i) => !parsed[i]), [], 'every stderr line is JSON');
  for (const p of parsed) t.match(p, { level: Number, time: Number, msg: String, pid: agent.proc.pid }, 'pino fields');
  const msgs = parsed.map((p) => p!.msg);
  t.ok(msgs.includes('netlet agent running'), 'start-up logged');
  t.match(parsed.find((p) => p!.msg === 'netlet agent running'), { node: 'n1', proxyMode: 'none' });
  t.ok(parsed.some((p) => p!.level === 50 && p!.file === 'broken.yaml'), 'the broken file is logged as an error with its name');
  t.ok(msgs.includes('shutting down; kernel state is left in place'), 'shutdown logged');

  await t.rejects(fetch(`http://127.0.0.1:${healthz}/healthz`), 'the health server is closed');

  // --snapshot with a manifest folder saves the state it served (written at the latest on shutdown).
  const saved = await readSnapshot(snapshot);
  t.same(saved.objects.filter((o) => o.kind === 'Service').map((o) => o.meta.name).sort(), ['extra', 'kube-dns', 'web']);
});

t.test('configuration errors end the process with a message naming the key', async (t) => {
  const rows: { name: string; config: string; args?: string[]; key: RegExp }[] = [
    { name: 'unknown top-level key', config: 'bogusKey: 1\n', key: /config: bogusKey: unknown key/ },
    { name: 'unknown nested key', config: 'proxy:\n  iptables:\n    syncPeriood: 10s\n', key: /config: proxy\.iptables\.syncPeriood: unknown key/ },
    { name: 'bad value', config: 'proxy:\n  mode: userspace\n', key: /config: proxy\.mode: must be one of/ },
    { name: 'missing manifest folder', config: '', args: ['--manifests', '/nonexistent/netlet-mf'], key: /config: manifests: cannot read folder \/nonexistent\/netlet-mf/ },
    { name: 'unknown flag', config: '', args: ['--proxy-mod', 'none'], key: /--proxy-mod/ },
  ];
  for (const row of rows) {
    const { dir, config } = await setup(t, row.config);
    const agent = run(t, ['agent', '--config', config, '--proxy-mode', 'none', '--node-name', 'n1', ...(row.args ?? ['--manifests', dir])]);
    const { code } = await withTimeout(agent.exit, 45_000, `${row.name}: exit`);
    t.not(code, 0, `${row.name}: non-zero exit`);
    t.match(agent.stderr(), row.key, `${row.name}: names the key`);
    t.notMatch(agent.stderr(), /^\s+at /m, `${row.name}: no stack trace`);
  }
});

t.test('a health port already in use is reported by key, and the process ends', async (t) => {
  const { dir, config, healthz } = await setup(t);
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(healthz, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const agent = run(t, ['agent', '--config', config, '--manifests', dir, '--proxy-mode', 'none']);
  const { code } = await withTimeout(agent.exit, 45_000, 'exit');
  t.equal(code, 2);
  t.match(agent.stderr(), `config: healthzBindAddress: cannot listen on 127.0.0.1:${healthz}: EADDRINUSE`);
});

t.test('netlet version and netlet agent --help, through npx node as documented', async (t) => {
  const pkg = (await import('../../../package.json', { with: { type: 'json' } })).default as { version: string };
  const version = spawnSync('npx', ['node', 'bin/netlet.js', 'version'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(version.status, 0);
  t.match(version.stdout, new RegExp(`^netlet ${pkg.version.replaceAll('.', '\\.')} \\(node v\\d+`));
  const help = spawnSync('npx', ['node', 'bin/netlet.js', 'agent', '--help'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(help.status, 0);
  for (const flag of ['--config', '--kubeconfig', '--manifests', '--snapshot', '--node-name', '--proxy-mode', '--dns']) {
    t.match(help.stdout, flag, `help lists ${flag}`);
  }
  const unknown = spawnSync(NODE, [BIN, 'frobnicate'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /unknown command 'frobnicate'/);
});
