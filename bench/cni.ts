// CNI plugin latency: netlet-cni (bridge mode + block IPAM) beside Debian's
// reference bridge + host-local, in the same run, interleaved pod by pod so
// both see the same machine load. Both run the way a runtime runs them: a
// new process per call, CNI_* environment, config on stdin, inside a "node"
// network namespace (entered with nsenter, which costs both the same).
//
//   npx node bench/cni.ts [--pods 100] [--cold 30] [--no-launcher]
//
// A third column is the fast path: the C shim handing each call to
// `netlet cni-server` running in the node namespace (installCni agentSocket).
//
// --no-launcher leaves out the Node.js launcher column (the slow one).
//
// Each column has container IDs of its own: the host veth's name is derived
// from the container ID and interface, so two columns sharing IDs in one
// node namespace made each fast-path ADD find (and delete, ~20 ms of kernel
// time) the launcher's veth of the same pod, which no runtime does.
//
// Unset NODE_EXTRA_CA_CERTS first: it adds ~47 ms to every Node start
// (docs/design/cni-speed.md#measuring).
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { installCni } from '../src/cni/install.ts';

const { values } = parseArgs({
  options: { pods: { type: 'string', default: '100' }, cold: { type: 'string', default: '30' }, 'no-launcher': { type: 'boolean', default: false } },
});
const LAUNCHER = !values['no-launcher'];
const PODS = Number(values.pods);
const COLD = Number(values.cold);
const REF_DIR = '/usr/lib/cni';

if (process.env.NODE_EXTRA_CA_CERTS) {
  process.stderr.write('bench/cni: NODE_EXTRA_CA_CERTS is set; unset it, it slows every Node start by ~47 ms\n');
  delete process.env.NODE_EXTRA_CA_CERTS;
}

const prefix = `nlbc${randomBytes(2).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'netlet-bench-cni-'));
const namespaces: string[] = [];
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
function netns(name: string): string {
  const full = `${prefix}-${name}`;
  ip('netns', 'add', full);
  namespaces.push(full);
  return full;
}

interface Call {
  plugin: string;
  argv?: string[];
  command: string;
  containerID?: string;
  netns?: string;
  conf: unknown;
}

/** Runs one plugin call in the node namespace; resolves with its wall time in ms. */
function run(node: string, c: Call): Promise<number> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, CNI_COMMAND: c.command, CNI_PATH: REF_DIR, CNI_IFNAME: 'eth0' };
  if (c.containerID) env.CNI_CONTAINERID = c.containerID;
  if (c.netns) env.CNI_NETNS = c.netns;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('nsenter', [`--net=/run/netns/${node}`, c.plugin, ...(c.argv ?? [])], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${c.plugin} ${c.command} failed: ${out}`));
      else resolve(ms);
    });
    child.stdin.on('error', () => {}); // a plugin may exit before reading it all
    child.stdin.end(JSON.stringify(c.conf));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '—');
const ratio = (x: number, ref: number): string => (Number.isFinite(x) ? `${(x / ref).toFixed(2)}×` : '—');

async function main(): Promise<void> {
  const { plugin } = installCni({ binDir: join(work, 'bin'), confDir: join(work, 'net.d'), cacheDir: join(work, 'cache') });
  const socket = join(work, 'cni.sock');
  const fast = installCni({ binDir: join(work, 'fastbin'), confDir: join(work, 'net.d'), cacheDir: join(work, 'cache'), agentSocket: socket }).plugin;
  const node = netns('node');
  server = spawn('nsenter', [`--net=/run/netns/${node}`, process.execPath, 'bin/netlet.js', 'cni-server', '--socket', socket], { stdio: 'inherit' });
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  const mine = () => ({
    cniVersion: '1.0.0',
    name: 'bench-netlet',
    type: 'netlet-cni',
    mode: 'bridge',
    bridge: 'nlbench0',
    ipam: { type: 'netlet-ipam', pools: [{ cidr: '10.231.0.0/16' }], dataDir: join(work, 'ipam'), blocksFile: join(work, 'ipam', 'blocks.json'), nodeName: 'bench' },
  });
  const ref = {
    cniVersion: '1.0.0',
    name: 'bench-ref',
    type: 'bridge',
    bridge: 'refbench0',
    isGateway: true,
    hairpinMode: true,
    ipam: { type: 'host-local', subnet: '10.232.0.0/16', dataDir: join(work, 'host-local') },
  };
  const fastConf = { ...mine(), name: 'bench-fast', bridge: 'nlfast0', ipam: { ...mine().ipam, pools: [{ cidr: '10.233.0.0/16' }], dataDir: join(work, 'ipam-fast'), blocksFile: join(work, 'ipam-fast', 'blocks.json') } };
  const pods = Array.from({ length: PODS }, (_, i) => ({ mine: netns(`m${i}`), ref: netns(`r${i}`), fast: netns(`f${i}`) }));

  // One warm-up call each (first-run effects: bridge creation, V8 compile cache).
  const warmNs = netns('warm');
  if (LAUNCHER) await run(node, { plugin, command: 'ADD', containerID: 'warm-m', netns: `/run/netns/${warmNs}`, conf: mine() });
  const warmFast = netns('warmf');
  await run(node, { plugin: fast, command: 'ADD', containerID: 'warm-f', netns: `/run/netns/${warmFast}`, conf: fastConf });
  const warmRef = netns('warmr');
  await run(node, { plugin: `${REF_DIR}/bridge`, command: 'ADD', containerID: 'warm-r', netns: `/run/netns/${warmRef}`, conf: ref });

  const add = { mine: [] as number[], ref: [] as number[], fast: [] as number[] };
  const del = { mine: [] as number[], ref: [] as number[], fast: [] as number[] };
  for (const [i, p] of pods.entries()) {
    if (LAUNCHER) add.mine.push(await run(node, { plugin, command: 'ADD', containerID: `m${i}`, netns: `/run/netns/${p.mine}`, conf: mine() }));
    add.fast.push(await run(node, { plugin: fast, command: 'ADD', containerID: `f${i}`, netns: `/run/netns/${p.fast}`, conf: fastConf }));
    add.ref.push(await run(node, { plugin: `${REF_DIR}/bridge`, command: 'ADD', containerID: `r${i}`, netns: `/run/netns/${p.ref}`, conf: ref }));
  }
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const addWall = { mine: sum(add.mine), ref: sum(add.ref), fast: sum(add.fast) };
  for (const [i, p] of pods.entries()) {
    if (LAUNCHER) del.mine.push(await run(node, { plugin, command: 'DEL', containerID: `m${i}`, netns: `/run/netns/${p.mine}`, conf: mine() }));
    del.fast.push(await run(node, { plugin: fast, command: 'DEL', containerID: `f${i}`, netns: `/run/netns/${p.fast}`, conf: fastConf }));
    del.ref.push(await run(node, { plugin: `${REF_DIR}/bridge`, command: 'DEL', containerID: `r${i}`, netns: `/run/netns/${p.ref}`, conf: ref }));
  }

  const cold = { mine: [] as number[], ref: [] as number[], node: [] as number[], fast: [] as number[] };
  for (let i = 0; i < COLD; i++) {
    if (LAUNCHER) cold.mine.push(await run(node, { plugin, command: 'VERSION', conf: { cniVersion: '1.0.0' } }));
    cold.ref.push(await run(node, { plugin: `${REF_DIR}/bridge`, command: 'VERSION', conf: { cniVersion: '1.0.0' } }));
    cold.fast.push(await run(node, { plugin: fast, command: 'VERSION', conf: { cniVersion: '1.0.0' } }));
    cold.node.push(await run(node, { plugin: process.execPath, argv: ['-e', '0'], command: 'VERSION', conf: {} }));
  }

  const stat = (name: string, src: { mine: number[]; fast: number[]; ref: number[] }, fn: (xs: number[]) => number) => [name, fn(src.mine), fn(src.fast), fn(src.ref)] as const;
  const table = [
    stat('ADD median (ms)', add, median),
    stat('ADD p95 (ms)', add, p95),
    stat('DEL median (ms)', del, median),
    stat('DEL p95 (ms)', del, p95),
    ['pods/s (sequential ADD)', (PODS * 1000) / addWall.mine, (PODS * 1000) / addWall.fast, (PODS * 1000) / addWall.ref] as const,
    stat('VERSION cold start median (ms)', cold, median),
  ];
  const out = [
    `CNI plugins, ${PODS} sequential pods each, interleaved${LAUNCHER ? '' : ' (Node.js launcher left out: --no-launcher)'}; ${COLD} VERSION calls. Node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| measure | netlet-cni (Node launcher) | ratio | netlet-cni via agent socket (C shim) | ratio | reference bridge + host-local |',
    '|---|---|---|---|---|---|',
    ...table.map(([name, a, b, c]) => `| ${name} | ${f(a)} | ${ratio(a, c)} | ${f(b)} | ${ratio(b, c)} | ${f(c)} |`),
    '',
    `\`node -e 0\` (the floor for any Node.js plugin): ${f(median(cold.node))} ms median.`,
    'Targets: ADD median ≤ 3× reference, DEL ≤ 2×, ≥ 50 ADDs/s sequentially. VERSION via the shim is answered by the agent too.',
  ];
  process.stdout.write(out.join('\n') + '\n');
}

let server: ChildProcess | undefined;
try {
  await main();
} finally {
  server?.kill('SIGTERM');
  for (const ns of namespaces.reverse()) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // gone already
    }
  }
  rmSync(work, { recursive: true, force: true });
}
