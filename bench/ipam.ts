// IPAM speed: the allocator in memory (what the CPU allows), the same through
// the local store on disk (lock + read + atomic write with fsync per ADD, what
// each plugin run pays), one process per ADD (Node start-up plus one
// allocation, the floor of a plugin run), and GC.
// Run: npx node bench/ipam.ts [--allocs N] [--disk N] [--procs N]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Allocator } from '../src/ipam/allocator.ts';
import { MemoryClaims } from '../src/ipam/claims-memory.ts';
import { parseCidr } from '../src/ipam/cidr.ts';
import { createIpam } from '../src/ipam/index.ts';
import { IpamState } from '../src/ipam/state.ts';

const { values } = parseArgs({
  options: {
    allocs: { type: 'string', default: '50000' },
    disk: { type: 'string', default: '500' },
    procs: { type: 'string', default: '20' },
  },
});
const nAllocs = Number(values.allocs);
const nDisk = Number(values.disk);
const nProcs = Number(values.procs);
const owner = (i: number) => ({ containerID: `c${i}`, ifname: 'eth0', podNamespace: 'bench', podName: `p${i}` });
const rows: string[][] = [];
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');

// 1. In memory: the allocator and claims alone, /16 split into /26 blocks, dual stack.
{
  const pools = [
    { name: 'v4', cidr: parseCidr('10.0.0.0/8'), blockSize: 26, disabled: false },
    { name: 'v6', cidr: parseCidr('fd00::/104'), blockSize: 122, disabled: false },
  ];
  const a = new Allocator(pools, new MemoryClaims('n1'));
  const s = new IpamState('n1');
  const t0 = performance.now();
  for (let i = 0; i < nAllocs; i++) await a.allocate(s, owner(i));
  const ms = performance.now() - t0;
  rows.push([`allocate in memory, dual stack, ${nAllocs.toLocaleString('en-US')} pods (${s.blocks.length} blocks)`, rate(nAllocs, ms), (ms / nAllocs * 1000).toFixed(1) + ' µs']);
  const t1 = performance.now();
  for (let i = 0; i < nAllocs; i++) a.release(s, owner(i));
  const ms1 = performance.now() - t1;
  rows.push([`release in memory, ${nAllocs.toLocaleString('en-US')}`, rate(nAllocs, ms1), (ms1 / nAllocs * 1000).toFixed(1) + ' µs']);
}

// 2. Through the local store: what one ADD costs inside a plugin run (lock, read, write, 2 fsyncs, rename).
const dir = mkdtempSync(join(tmpdir(), 'netlet-bench-ipam-'));
try {
  const conf = { pools: [{ cidr: '10.0.0.0/16' }], dataDir: dir };
  const ipam = await createIpam(conf, { nodeName: 'n1' });
  const t0 = performance.now();
  for (let i = 0; i < nDisk; i++) await ipam.allocate(owner(i));
  const ms = performance.now() - t0;
  rows.push([`ADD through the local store, sequential, ${nDisk}`, rate(nDisk, ms), (ms / nDisk).toFixed(2) + ' ms']);
  const t1 = performance.now();
  await Promise.all(Array.from({ length: nDisk }, (_, i) => ipam.allocate(owner(nDisk + i))));
  const ms1 = performance.now() - t1;
  rows.push([`ADD through the local store, ${nDisk} at once (lock contention)`, rate(nDisk, ms1), (ms1 / nDisk).toFixed(2) + ' ms']);
  const valid = Array.from({ length: nDisk }, (_, i) => owner(i * 2));
  const t2 = performance.now();
  const released = await ipam.garbageCollect(valid);
  rows.push([`GC of ${2 * nDisk} attachments (${released} released, empty blocks given back)`, '', (performance.now() - t2).toFixed(1) + ' ms']);

  // 3. One process per ADD: Node start-up + loading the IPAM modules + one allocation.
  const worker = fileURLToPath(new URL('../test/integration/ipam/alloc-worker.ts', import.meta.url));
  const t3 = performance.now();
  for (let i = 0; i < nProcs; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, [worker, JSON.stringify(conf), 'n1', 'proc', String(i), '1'], { stdio: 'ignore' });
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
    });
  }
  const ms3 = performance.now() - t3;
  rows.push([`one process per ADD (node + TS sources, unbundled), ${nProcs}`, rate(nProcs, ms3), (ms3 / nProcs).toFixed(1) + ' ms']);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log('| IPAM operation | per second | each |');
console.log('|---|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
