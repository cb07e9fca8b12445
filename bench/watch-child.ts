// The measured side of bench/watch.ts, in its own process so its peak RSS
// is its own: syncs from the URL given (mode "sync": Services, EndpointSlices,
// Nodes; mode "stream": EndpointSlices), prints one JSON line when synced,
// then counts store changes until the parent says how many to expect.
// Run by bench/watch.ts: npx node bench/watch-child.ts URL MODE

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ApiClient } from '../src/k8s/client.ts';
import { Reflector } from '../src/k8s/reflector.ts';
import { resourceSpec } from '../src/k8s/resources.ts';
import { ObjectStore } from '../src/k8s/store.ts';
import type { Kind } from '../src/k8s/objects.ts';

const vmHWM = (): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;


async function child(url: string, mode: string): Promise<void> {
  const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  const client = new ApiClient({ server: url });
  const store = new ObjectStore();
  const kinds: Kind[] = mode === 'sync' ? ['Service', 'EndpointSlice', 'Node'] : ['EndpointSlice'];
  const reflectors = kinds.map((k) => new Reflector({ client, store, resource: resourceSpec(k) }));
  const baseMB = process.memoryUsage().rss / 1048576;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const r of reflectors) r.start();
  await store.whenSynced(...kinds);
  const syncMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const counts = Object.fromEntries(kinds.map((k) => [k, store.count(k)]));
  out({ phase: 'synced', syncMs, cpuMs, baseMB, rssMB: vmHWM(), maxRssMB: process.resourceUsage().maxRSS / 1024, uptimeMs: performance.now(), counts });

  // Events: count store changes until the parent says how many to expect.
  let seen = 0;
  let first = 0;
  let last = 0;
  store.subscribe(() => {
    if (seen++ === 0) first = performance.now();
    last = performance.now();
  });
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const expect = Number(line);
    if (expect === 0) seen = 0;
    const deadline = performance.now() + 120_000;
    while (seen < expect && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const cpu = process.cpuUsage(cpu0);
    out({ phase: 'events', seen, ms: last - first, rssMB: vmHWM(), cpuMs: (cpu.user + cpu.system) / 1000 - cpuMs });
    break;
  }
  await Promise.all(reflectors.map((r) => r.stop()));
  await client.close();
  process.exit(0);
}

await child(process.argv[2], process.argv[3] ?? 'sync');
