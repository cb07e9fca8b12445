// Snapshot write and read times at cluster sizes (netlet's reference scale:
// 10,000 Services). Writes go through the atomic temp+fsync+rename path.
// Run: npx node bench/snapshot.ts [--sizes 1000x10,10000x10,10000x100]
// (--sizes: services×endpoints rows; the 10000×100 row alone writes 225 MB and takes about a minute.)

import { parseArgs } from 'node:util';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyObject } from '../src/k8s/objects.ts';
import { readSnapshot, writeSnapshot } from '../src/k8s/snapshot.ts';
import { endpoint, endpointSlice, node, pod, service } from '../test/helpers/objects.ts';

function cluster(services: number, endpointsPerService: number): AnyObject[] {
  const objects: AnyObject[] = [];
  for (let n = 0; n < 100; n++) objects.push(node(`node-${n}`, { podCIDRs: [`10.244.${n}.0/24`], internalIPs: [`192.168.${n >> 8}.${n & 255}`] }));
  let ip = 0;
  for (let s = 0; s < services; s++) {
    objects.push(service('bench', `svc-${s}`, { clusterIPs: [`10.96.${(s >> 8) & 255}.${s & 255}`] }));
    const eps = [];
    for (let e = 0; e < endpointsPerService; e++, ip++) {
      const addr = `10.${64 + ((ip >> 16) & 63)}.${(ip >> 8) & 255}.${ip & 255}`;
      eps.push(endpoint(addr, { nodeName: `node-${ip % 100}`, targetPod: { namespace: 'bench', name: `pod-${ip}` } }));
      if (s < 1000) objects.push(pod('bench', `pod-${ip}`, addr));
    }
    objects.push(endpointSlice('bench', `svc-${s}`, `svc-${s}-abcde`, eps));
  }
  return objects;
}

const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

const dir = await mkdtemp(join(tmpdir(), 'netlet-bench-snapshot-'));
try {
  console.log('| services × endpoints | objects | file MB | write ms | longest event-loop stall during write, ms | read + check ms |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000x10,10000x10,10000x100' } } });
  for (const [services, eps] of values.sizes.split(',').map((r) => r.split('x').map(Number))) {
    const objects = cluster(services, eps);
    const file = join(dir, `s-${services}-${eps}.json`);
    await writeSnapshot(file, objects); // warm up
    const writes: number[] = [];
    const reads: number[] = [];
    const stalls: number[] = [];
    for (let i = 0; i < 3; i++) {
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      writes.push(await time(() => writeSnapshot(file, objects)));
      h.disable();
      stalls.push(h.max / 1e6);
      reads.push(await time(() => readSnapshot(file)));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[1].toFixed(0);
    const mb = ((await stat(file)).size / 1e6).toFixed(1);
    console.log(`| ${services} × ${eps} | ${objects.length} | ${mb} | ${median(writes)} | ${median(stalls)} | ${median(reads)} |`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
