// API-side sync cost: time and peak RSS of a process that lists and watches
// 10k Services + 10k EndpointSlices (3 endpoints each) + 5k Nodes from the test
// API server, and how many EndpointSlice watch events per second the
// reflector applies to the store. The syncing side runs in a child process so
// its peak RSS (VmHWM) is its own, not the server's.
// Targets: sync <= 3 s and <= 150 MB; >= 5,000 events/s.
// Run: npx node bench/watch.ts [--services N] [--events N]

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ApiClient } from '../src/k8s/client.ts';
import { startApiServer } from '../test/apiserver/server.ts';
import { rawNode, rawService, rawSlice } from '../test/integration/k8s/reflector-fixtures.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    nodes: { type: 'string', default: '5000' },
    events: { type: 'string', default: '20000' },
  },
});

// ---- parent: servers, load, table ----

const CHILD = join(import.meta.dirname, 'watch-child.ts');

function runChild(url: string, mode: string, nodeFlags: string[] = [], script = CHILD): { next(): Promise<any>; send(line: string): void; done: Promise<void> } {
  const proc = spawn(process.execPath, [...nodeFlags, script, url, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return {
    next: async () => JSON.parse((await lines.next()).value as string),
    send: (line) => proc.stdin!.write(line + '\n'),
    done: new Promise((r) => proc.on('exit', () => r())),
  };
}

async function main(): Promise<void> {
  const nSvc = Number(values.services);
  const nNodes = Number(values.nodes);
  const nEvents = Number(values.events);
  const rows: string[][] = [];

  // 1. Full sync + EndpointSlice updates through the test API server.
  const api = await startApiServer({ historySize: Math.max(20_000, nEvents + 1000) });
  const objs: object[] = [];
  for (let i = 0; i < nSvc; i++) objs.push(rawService(`ns-${i % 50}`, i), rawSlice(`ns-${i % 50}`, i));
  for (let i = 0; i < nNodes; i++) objs.push(rawNode(i));
  api.seed(objs);
  objs.length = 0;
  // A real API server answers lists from its warm watch cache; warm the test
  // server's code paths once so its JIT warm-up is not billed to the client.
  for (const path of ['/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices', '/api/v1/nodes']) {
    const warm = new ApiClient({ server: api.url });
    let cont: string | undefined;
    do cont = (await warm.list(path, { limit: 500, continue: cont })).metadata.continue || undefined;
    while (cont);
    await warm.close();
  }
  const what = `${nSvc} Services + ${nSvc} EndpointSlices + ${nNodes} Nodes`;
  // Peak RSS depends on how the agent is run: from .ts sources (type
  // stripping) or bundled like netlet-cni; and on V8's young generation (16 MiB
  // semi-spaces by default) that holds the garbage of each parsed list page.
  const bundleDir = await mkdtemp(join(tmpdir(), 'netlet-bench-watch-'));
  const bundle = join(bundleDir, 'watch-child.mjs');
  await build({
    entryPoints: [CHILD], bundle: true, platform: 'node', target: 'node24', format: 'esm', outfile: bundle, logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const variants: [string, string[], string][] = [
    ['.ts sources, node --max-semi-space-size=4', ['--max-semi-space-size=4'], CHILD],
    ['bundled (esbuild)', [], bundle],
    ['bundled, node --max-semi-space-size=4', ['--max-semi-space-size=4'], bundle],
  ];
  const variantRows: string[][] = [];
  for (const [name, flags, script] of variants) {
    const c = runChild(api.url, 'sync', flags, script);
    const r = await c.next();
    c.send('0');
    await c.next();
    await c.done;
    variantRows.push([`  peak RSS, ${name}`, `${r.rssMB.toFixed(0)} MB (before the first request ${r.baseMB.toFixed(0)} MB; sync ${Math.round(r.syncMs)} ms)`, '≤ 150 MB']);
  }
  await rm(bundleDir, { recursive: true, force: true });
  const c1 = runChild(api.url, 'sync');
  const synced = await c1.next();
  rows.push([`sync ${what}`, `${Math.round(synced.syncMs)} ms`, '≤ 3000 ms']);
  rows.push(['  CPU time the syncing process spent on it (user + system)', `${Math.round(synced.cpuMs)} ms`, '']);
  rows.push(['peak RSS of the syncing process (VmHWM), .ts sources', `${synced.rssMB.toFixed(0)} MB (before the first request ${synced.baseMB.toFixed(0)} MB)`, '≤ 150 MB']);
  rows.push(...variantRows);
  rows.push(['process start → synced', `${Math.round(synced.uptimeMs)} ms`, '']);

  const n = Math.min(nEvents, nSvc);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    api.update(rawSlice(`ns-${i % 50}`, i, 1));
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  const genMs = performance.now() - t0;
  c1.send(String(n));
  const ev = await c1.next();
  await c1.done;
  rows.push([`EndpointSlice updates via the test API server (${ev.seen}/${n})`, `${Math.round((ev.seen / ev.ms) * 1000)} events/s`, '≥ 5,000 events/s']);
  rows.push(['  (server side: generating those updates took)', `${Math.round(genMs)} ms`, '']);
  await api.close();

  // 2. The client's ceiling: a pre-serialized watch stream served from memory.
  const total = nEvents * 2;
  const lines: string[] = [];
  for (let i = 0; i < total; i++) {
    const obj = rawSlice(`ns-${i % 50}`, i % nSvc, i) as { metadata: Record<string, unknown> };
    obj.metadata = { ...obj.metadata, uid: `u-${i % nSvc}`, resourceVersion: String(i + 2) };
    lines.push(JSON.stringify({ type: 'MODIFIED', object: obj }));
  }
  const body = Buffer.from(lines.join('\n') + '\n');
  lines.length = 0;
  let watched = false;
  const raw = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (!req.url?.includes('watch=true')) return res.end(JSON.stringify({ kind: 'EndpointSliceList', metadata: { resourceVersion: '1' }, items: [] }));
    if (watched) return; // later watches hang: the bench is over by then
    watched = true;
    // 64 KiB chunks, as a busy API server's chunked encoding would deliver them.
    let off = 0;
    const pump = () => {
      while (off < body.length) {
        const ok = res.write(body.subarray(off, off + 65536));
        off += 65536;
        if (!ok) return void res.once('drain', pump);
      }
      res.end();
    };
    setTimeout(pump, 200);
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const c2 = runChild(`http://127.0.0.1:${(raw.address() as AddressInfo).port}`, 'stream');
  await c2.next();
  c2.send(String(total));
  const ev2 = await c2.next();
  await c2.done;
  raw.closeAllConnections();
  raw.close();
  rows.push([`EndpointSlice events from an in-memory stream (${ev2.seen}/${total})`, `${Math.round((ev2.seen / ev2.ms) * 1000)} events/s`, '≥ 5,000 events/s']);
  rows.push(['  peak RSS of that process', `${ev2.rssMB.toFixed(0)} MB`, '']);

  console.log('| measurement | result | target |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\nnode ${process.version}, ${new Date().toISOString()}; a shared 2-core machine under load from other work`);
}

await main();
