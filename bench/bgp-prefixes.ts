// A full table's worth of prefixes: GoBGP holds ~100k IPv4 prefixes (loaded
// from an MRT TABLE_DUMP_V2 file with `gobgp mrt inject global`) and sends
// them over eBGP, once to a netlet agent (bgp.enabled, the routes in the
// kernel as proto bgp) and once to BIRD 2 (protocol kernel, proto bird),
// each in its own namespace, in the same run and alternating which goes
// first. Measured per receiver: from the session Established to the last
// route in the kernel (counted by a route dump every POLL_MS), and the
// receiver's memory once they are all in (RSS; the agent's V8 heap too).
// Run: flock /tmp/netlet-heavy.lock npx node bench/bgp-prefixes.ts [--prefixes 100000] [--trials 3] [--profile DIR]
// (--profile: the agent writes a V8 CPU profile per trial into DIR.)

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, eventually, type Netns } from '../test/helpers/netns.ts';
import { renderTable } from './lib/markdown.ts';
import { consecutivePrefixes, tableDump } from './lib/mrt-table-dump.ts';

const { values } = parseArgs({ options: { prefixes: { type: 'string', default: '100000' }, trials: { type: 'string', default: '3' }, profile: { type: 'string' } } });
const WANT = Number(values.prefixes);
const TRIALS = Number(values.trials);
const NETLET = fileURLToPath(new URL('../bin/netlet.js', import.meta.url));
const POLL_MS = 50;
const GOBGP_AS = 65100;
const log = (s: string) => process.stderr.write(`bgp-prefixes: ${s}\n`);

const lab = new Lab('bgx');
const dir = mkdtempSync('/tmp/netlet-bgp-prefixes-');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Receiver {
  name: string;
  ns: Netns;
  /** rtm_protocol name its routes carry (`ip route show proto X`). */
  proto: string;
  start(): ChildProcess;
  established(): Promise<boolean>;
  /** Extra memory figures once the routes are in (MiB). */
  extra?(): Promise<Record<string, number>>;
}

/** Routes of `proto` in the namespace's main table, counted from `ip route show` without keeping its output. */
function countRoutes(ns: Netns, proto: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['-n', ns.name, 'route', 'show', 'proto', proto], { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    child.stdout.on('data', (b: Buffer) => {
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
    });
    child.on('error', reject);
    child.on('close', () => resolve(n));
  });
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function httpGet(o: { socketPath?: string; host?: string; port?: number; path: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ ...o, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function measure(r: Receiver, total: number): Promise<{ up: number; done: number; rss: number; extra: Record<string, number> }> {
  await r.ns.ip('route', 'flush', 'proto', r.proto).catch(() => '');
  const t0 = performance.now();
  const child = r.start();
  let up = 0;
  while (!(await r.established().catch(() => false))) {
    if (performance.now() - t0 > 60_000) throw new Error(`${r.name}: no session within 60 s`);
    await new Promise((res) => setTimeout(res, 10));
  }
  up = performance.now();
  let count = 0;
  while ((count = await countRoutes(r.ns, r.proto)) < total) {
    if (performance.now() - up > 300_000) throw new Error(`${r.name}: ${count}/${total} routes after 300 s`);
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
  const done = performance.now();
  const extra = (await r.extra?.()) ?? {};
  const rss = rssMiB(child.pid!);
  child.kill('SIGTERM');
  await new Promise((res) => (child.exitCode === null ? child.once('exit', res) : res(undefined)));
  return { up: up - t0, done: done - up, rss, extra };
}

async function main(): Promise<void> {
  const g = await lab.netns('g');
  const n = await lab.netns('n');
  const b = await lab.netns('b');
  await lab.link(g, n, '192.168.97.1/30', '192.168.97.2/30');
  await lab.link(g, b, '192.168.97.5/30', '192.168.97.6/30');

  // GoBGP, with the prefixes loaded before any receiver connects.
  writeFileSync(
    join(dir, 'gobgp.toml'),
    `[global.config]
  as = ${GOBGP_AS}
  router-id = "192.168.97.1"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "192.168.97.2"
    peer-as = 65001
[[neighbors]]
  [neighbors.config]
    neighbor-address = "192.168.97.6"
    peer-as = 65002
`,
  );
  lab.track(g.spawn('gobgpd', ['-f', join(dir, 'gobgp.toml'), '--api-hosts', '127.0.0.1:50051', '-l', 'warn'], { stdio: 'ignore' }));
  const gobgp = (...args: string[]) => g.exec('gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args]);
  await eventually(() => gobgp('global').then((s) => s.includes('AS')), 10_000);
  // `gobgp mrt inject` loses the last few hundred records of a file (the stream ends before GoBGP reads them): load a
  // margin more, and count what GoBGP holds. Both receivers get exactly that set.
  const mrt = join(dir, 'table.mrt');
  // Next hop 0.0.0.0: GoBGP then sends its own address on each session (an eBGP receiver drops a next hop off its link).
  writeFileSync(mrt, tableDump({ peer: { routerId: '192.168.97.1', address: '192.168.97.1', as: 65200 }, asPath: [65200], nextHop: '0.0.0.0', prefixes: consecutivePrefixes('10.0.0.0', 26, Math.ceil(WANT * 1.02) + 1000) }));
  await gobgp('mrt', 'inject', 'global', mrt);
  const held = async () => Number(/Destination: (\d+)/.exec(await gobgp('global', 'rib', 'summary'))?.[1] ?? 0);
  let total = 0;
  for (let last = -1; total !== last; ) {
    last = total;
    await new Promise((res) => setTimeout(res, 500));
    total = await held();
  }
  if (total < WANT) throw new Error(`GoBGP holds ${total} prefixes, fewer than ${WANT}`);
  log(`GoBGP holds ${total} prefixes`);

  // BIRD: eBGP from GoBGP, everything into the kernel.
  const birdSock = join(dir, 'bird.ctl');
  writeFileSync(
    join(dir, 'bird.conf'),
    `router id 192.168.97.6;
protocol device {}
protocol kernel { ipv4 { export all; }; }
protocol bgp gobgp {
  local 192.168.97.6 as 65002;
  neighbor 192.168.97.5 as ${GOBGP_AS};
  ipv4 { import all; export none; };
}
`,
  );
  const bird: Receiver = {
    name: 'BIRD 2',
    ns: b,
    proto: 'bird',
    start: () => lab.track(b.spawn('bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', birdSock, '-P', join(dir, 'bird.pid')], { stdio: 'ignore' })),
    established: async () => /Established/.test(await b.exec('birdc', ['-s', birdSock, 'show', 'protocols', 'gobgp'])),
  };

  // netlet: an agent with only the speaker (and the routes syncer it feeds).
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(
    join(manifests, 'node.yaml'),
    `apiVersion: v1
kind: Node
metadata: {name: n}
status:
  addresses: [{type: InternalIP, address: "192.168.97.2"}]
`,
  );
  const netletSock = join(dir, 'bgp.sock');
  writeFileSync(
    join(dir, 'agent.yaml'),
    `metricsBindAddress: 127.0.0.1:10249
bgp:
  enabled: true
  asNumber: 65001
  statusSocket: ${netletSock}
  peers: [{peerIP: 192.168.97.1, asNumber: ${GOBGP_AS}}]
`,
  );
  const netlet: Receiver = {
    name: 'netlet',
    ns: n,
    proto: 'bgp',
    start: () =>
      lab.track(n.spawn(process.execPath, [...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : []), NETLET, 'agent', '--config', join(dir, 'agent.yaml'), '--manifests', manifests, '--node-name', 'n', '--proxy-mode', 'none', '--log-level', 'warn'], { stdio: 'ignore' })),
    established: async () => /"Established"/.test(await httpGet({ socketPath: netletSock, path: '/status' })),
    extra: async () => {
      const metrics = await n.exec('curl', ['-s', 'http://127.0.0.1:10249/metrics']);
      const heap = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? 0);
      return { heap: heap / 2 ** 20 };
    },
  };

  const results = new Map<string, Array<Awaited<ReturnType<typeof measure>>>>([
    [bird.name, []],
    [netlet.name, []],
  ]);
  for (let trial = 0; trial < TRIALS; trial++) {
    const order = trial % 2 ? [netlet, bird] : [bird, netlet];
    for (const r of order) {
      const m = await measure(r, total);
      log(`trial ${trial + 1} ${r.name}: session up after ${m.up.toFixed(0)} ms, ${total} routes in the kernel ${m.done.toFixed(0)} ms later, RSS ${m.rss.toFixed(0)} MiB`);
      results.get(r.name)!.push(m);
      // GoBGP notices the session is gone before the next receiver's clock starts.
      await new Promise((res) => setTimeout(res, 1000));
    }
  }

  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const birdDone = median(results.get(bird.name)!.map((m) => m.done));
  const rows = [bird, netlet].map((r) => {
    const ms = results.get(r.name)!;
    const done = median(ms.map((m) => m.done));
    const heap = ms.map((m) => m.extra.heap).filter((h) => h !== undefined);
    return [
      r.name + (r === bird ? ' (anchor)' : ''),
      (done / 1000).toFixed(2),
      `${(Math.min(...ms.map((m) => m.done)) / 1000).toFixed(2)} – ${(Math.max(...ms.map((m) => m.done)) / 1000).toFixed(2)}`,
      (done / birdDone).toFixed(2),
      Math.round(total / (done / 1000)).toLocaleString('en-US'),
      median(ms.map((m) => m.rss)).toFixed(0),
      heap.length ? median(heap).toFixed(0) : '–',
    ];
  });
  console.log(`\n${total.toLocaleString('en-US')} IPv4 prefixes from GoBGP over eBGP, session Established → last route in the kernel (median of ${TRIALS}; route count polled every ${POLL_MS} ms)\n`);
  console.log(renderTable(['receiver', 'time (s)', 'range (s)', '× BIRD', 'routes/s', 'RSS (MiB)', 'V8 heap used (MiB)'], rows));
}

try {
  await main();
} finally {
  await lab.cleanup();
}
