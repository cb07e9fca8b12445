// The runtime operators get: `npm run build` bundles the CLI into
// dist/netlet.mjs (+ dist/dns-worker.mjs), and bin/netlet.js runs it when it
// is fresh. Here the bundle runs the agent's service proxy against the real
// iptables in a namespace and `netlet dns` with worker threads (the worker
// is the bundle's second entry point), and a throwaway copy of the layout
// shows which runtime bin/netlet.js picks when the sources change.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, eventually, rootSkip, sh } from '../../helpers/netns.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NETLET = join(ROOT, 'bin/netlet.js');
// Forced, so an engineer saving a source mid-run cannot switch this test to the sources.
const BUNDLED = { ...process.env, NETLET_RUNTIME: 'bundle' };

/** Builds the bundles; retries while a source changes under the build (a shared checkout). */
function buildFresh(): string {
  let version = '';
  for (let i = 0; i < 3 && !version.includes(', bundle)'); i++) {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.ts')], { stdio: 'inherit' });
    version = execFileSync(process.execPath, [NETLET, 'version'], { encoding: 'utf8', env: { ...process.env, NETLET_RUNTIME: '' } });
  }
  return version;
}

t.test('after npm run build, bin/netlet.js runs the bundle', async (t) => {
  t.match(buildFresh(), /^netlet \S+ \(node v24\.\S+, bundle\)\n$/);
});

t.test('the bundled agent programs a service into iptables', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('bnd');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('node');
  const dir = mkdtempSync(join(tmpdir(), 'netlet-bundled-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'agent.yaml'), 'healthzBindAddress: 127.0.0.1:0\nmetricsBindAddress: 127.0.0.1:0\nproxy:\n  clusterCIDR: 10.244.0.0/16\n');
  mkdirSync(join(dir, 'manifests'));
  writeFileSync(
    join(dir, 'manifests', 'web.yaml'),
    [
      'apiVersion: v1\nkind: Node\nmetadata: {name: node1}\nstatus: {addresses: [{type: InternalIP, address: 192.168.100.1}]}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  clusterIP: 10.96.0.10\n  clusterIPs: [10.96.0.10]\n  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{name: http, port: 8080, protocol: TCP}]\nendpoints:\n- {addresses: [10.244.1.2], conditions: {ready: true}, nodeName: node1}',
    ].join('\n---\n') + '\n',
  );
  const agent = lab.track(
    node.spawn(process.execPath, [NETLET, 'agent', '--config', join(dir, 'agent.yaml'), '--manifests', join(dir, 'manifests'), '--node-name', 'node1', '--proxy-mode', 'iptables'], {
      env: { ...BUNDLED, NETLET_IPTABLES_MODE: 'nft' },
    }),
  );
  const log = collect(agent);
  t.teardown(() => {
    if (!t.passing()) t.comment(log().slice(-3000));
  });
  const rules = await eventually(async () => {
    const out = await node.exec('iptables-nft-save', ['-t', 'nat']);
    if (!/-d 10\.96\.0\.10\/32 .*--dport 80 .*-j KUBE-SVC-/.test(out) || !/-j DNAT --to-destination 10\.244\.1\.2:8080/.test(out)) throw new Error('rules not there yet');
    return out;
  }, 30_000);
  t.match(rules, /KUBE-SERVICES/);
  // bin/netlet.js re-executed itself (same pid) with the agent's V8 flags.
  t.ok(readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0').includes('--max-semi-space-size=4'), 'runs with its Node flags');
  t.ok(readFileSync(`/proc/${agent.pid}/environ`, 'utf8').split('\0').includes('MALLOC_ARENA_MAX=2'), 'and two malloc arenas');
  agent.kill('SIGTERM');
  t.equal(await new Promise((r) => agent.once('exit', r)), 0, 'stops cleanly');
});

t.test('bundled netlet dns answers from its worker threads too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netlet-bundled-dns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'web.yaml'),
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  clusterIP: 10.96.8.8\n  ports: [{name: http, port: 80}]\n',
  );
  const { spawn } = await import('node:child_process');
  const dns = spawn(process.execPath, [NETLET, 'dns', '--manifests', dir, '--listen', '127.0.0.1:0', '--health', '127.0.0.1:0', '--ready', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--workers', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: BUNDLED,
  });
  t.teardown(() => void dns.kill('SIGKILL'));
  const log = collect(dns);
  const port = await eventually(() => /"listen":\[\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(log())?.[1] ?? '', 20_000).catch((err: Error) => {
    throw new Error(`${err.message}; log: ${log()}`);
  });
  const dig = async () => (await sh('dig', ['@127.0.0.1', '-p', port, '+time=3', '+tries=2', '+short', 'web.default.svc.cluster.local'])).trim();
  t.equal(await eventually(async () => ((await dig()) === '10.96.8.8' ? '10.96.8.8' : ''), 20_000), '10.96.8.8', 'once the manifests are in');
  // SO_REUSEPORT spreads queries from different source ports over the
  // main thread and the worker: several queries reach both.
  for (let i = 0; i < 6; i++) {
    t.equal(await dig(), '10.96.8.8', `query ${i}`);
  }
  t.notMatch(log(), /dns-worker|ERR_MODULE_NOT_FOUND|Cannot find module/, 'the worker module loaded');
  dns.kill('SIGTERM');
  await new Promise((r) => dns.once('exit', r));
});

t.test('bin/netlet.js runs the sources when one is newer than the bundle or gone', async (t) => {
  // A copy of the layout bin/netlet.js looks at, with a "bundle" and
  // "sources" that say which of them ran.
  const root = mkdtempSync(join(tmpdir(), 'netlet-runtime-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['bin', 'dist', 'src/agent']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(NETLET, join(root, 'bin/netlet.js'));
  copyFileSync(join(dirname(NETLET), 'runtime-flags.js'), join(root, 'bin/runtime-flags.js'));
  writeFileSync(join(root, 'package.json'), '{"type": "module"}\n');
  const main = (who: string) => `export async function main(argv) { process.stdout.write(argv[0] === 'agent' ? process.execArgv.join(' ') + '|' + (process.env.MALLOC_ARENA_MAX ?? '') : '${who}'); return 0; }\n`;
  writeFileSync(join(root, 'dist/netlet.mjs'), main('bundle'));
  writeFileSync(join(root, 'dist/dns-worker.mjs'), '');
  writeFileSync(join(root, 'src/agent/cli.ts'), main('sources'));
  writeFileSync(join(root, 'src/agent/other.ts'), '');
  const inputs = { bundles: ['dist/netlet.mjs', 'dist/dns-worker.mjs'], sources: ['src/agent/cli.ts', 'src/agent/other.ts'] };
  const setTime = (path: string, s: number) => utimesSync(join(root, path), s, s);
  const runs = (env: Record<string, string> = {}, args: string[] = []) =>
    spawnSync(process.execPath, [join(root, 'bin/netlet.js'), ...args], { encoding: 'utf8', env: { ...process.env, NETLET_RUNTIME: '', MALLOC_ARENA_MAX: undefined, ...env } }).stdout;

  t.equal(runs(), 'sources', 'never built');
  writeFileSync(join(root, 'dist/netlet.inputs.json'), JSON.stringify(inputs));
  for (const s of inputs.sources) setTime(s, 1000);
  for (const b of inputs.bundles) setTime(b, 2000);
  t.equal(runs(), 'bundle', 'built after every source');
  setTime('src/agent/other.ts', 3000);
  t.equal(runs(), 'sources', 'a source edited since');
  t.equal(runs({ NETLET_RUNTIME: 'bundle' }), 'bundle', 'NETLET_RUNTIME=bundle forces the bundle');
  setTime('src/agent/other.ts', 1000);
  setTime('dist/dns-worker.mjs', 500);
  t.equal(runs(), 'sources', 'one of the bundles older than a source');
  setTime('dist/dns-worker.mjs', 2000);
  t.equal(runs({ NETLET_RUNTIME: 'sources' }), 'sources', 'NETLET_RUNTIME=sources forces the sources');
  t.equal(runs({}, ['agent']), '--max-semi-space-size=4|2', 'the agent gets its Node flags and MALLOC_ARENA_MAX');
  t.equal(runs({ NETLET_NODE_FLAGS: '--max-semi-space-size=2 --optimize-for-size' }, ['agent']), '--max-semi-space-size=2 --optimize-for-size|2', 'NETLET_NODE_FLAGS replaces the flags');
  t.equal(runs({ NETLET_NODE_FLAGS: '', MALLOC_ARENA_MAX: '8' }, ['agent']), '|8', 'NETLET_NODE_FLAGS="" gives none; MALLOC_ARENA_MAX as given');
  // (NODE_OPTIONS is handled the same way, but tap rewrites it in the processes it spawns.)
  const given = spawnSync(process.execPath, ['--max-semi-space-size=8', join(root, 'bin/netlet.js'), 'agent'], { encoding: 'utf8', env: { ...process.env, NETLET_RUNTIME: '', MALLOC_ARENA_MAX: '2' } });
  t.equal(given.stdout, '--max-semi-space-size=8|2', 'a flag the operator gave stays as given');
  rmSync(join(root, 'src/agent/other.ts'));
  t.equal(runs(), 'sources', 'a source gone');
  rmSync(join(root, 'src'), { recursive: true });
  t.equal(runs(), 'bundle', 'no sources at all (an image without src/)');
});

function collect(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d));
  child.stderr?.on('data', (d: Buffer) => (text += d));
  return () => text;
}
