// BGP propagation in a simulated cluster: N speakers in this process, each on
// its own loopback address (127.0.3.x), clients of two route reflectors
// (127.0.2.1 and .2, one cluster ID). A prefix appears on one node; the
// table gives the time until each other node has it selected (p50/p99 over
// every node and trial), and until the last one does, beside the anchor of
// the same run: one prefix over one direct session (a single hop).
// Run: npx node bench/bgp-mesh.ts [--nodes 100] [--trials 30]

import { parseArgs } from 'node:util';
import { BgpSpeaker } from '../src/bgp/speaker.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '100' }, trials: { type: 'string', default: '30' } } });
const nodes = Number(values.nodes);
const trials = Number(values.trials);
const PORT = 17900 + (process.pid % 1000);
const AS = 64512;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (x: number) => x.toFixed(1);

function has(s: BgpSpeaker, prefix: string): boolean {
  for (const paths of s.selected()) if (paths[0].prefix === prefix) return true;
  return false;
}

/** Resolves with the time (ms since t0) at which `s` selects `prefix`. */
function arrival(s: BgpSpeaker, prefix: string, t0: () => number): Promise<number> {
  return new Promise((resolve) => {
    const off = s.watch(() => {
      if (!has(s, prefix)) return;
      off();
      resolve(performance.now() - t0());
    });
  });
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const all: BgpSpeaker[] = [];
async function speaker(id: string, listen: boolean, clusterId?: string): Promise<BgpSpeaker> {
  const s = new BgpSpeaker({ asNumber: AS, routerId: id, listen: listen ? { host: id, port: PORT } : undefined, clusterId, readyTimeoutMs: 1000 });
  await s.start();
  all.push(s);
  return s;
}

// Anchor: one hop.
const a = await speaker('127.0.1.1', true);
const b = await speaker('127.0.1.2', false);
a.setPeers([{ address: '127.0.1.2', asNumber: AS, passive: true }]);
b.setPeers([{ address: '127.0.1.1', port: PORT, asNumber: AS, sourceAddress: '127.0.1.2' }]);
await until(() => a.status()[0].state === 'Established' && b.status()[0].state === 'Established', 20_000, 'anchor session');
const oneHop: number[] = [];
for (let k = 0; k < trials; k++) {
  const prefix = `10.201.${k}.0/24`;
  let t0 = 0;
  const p = arrival(a, prefix, () => t0);
  t0 = performance.now();
  b.setLocalPrefixes([prefix]);
  oneHop.push(await p);
}

// The cluster: two reflectors, N-2 clients.
const clusterId = '127.0.2.1';
const rrs = [await speaker('127.0.2.1', true, clusterId), await speaker('127.0.2.2', true, clusterId)];
const clients: BgpSpeaker[] = [];
const clientIp = (i: number) => `127.0.3.${i + 1}`;
for (let i = 0; i < nodes - 2; i++) clients.push(await speaker(clientIp(i), false));
for (const rr of rrs) rr.setPeers(clients.map((_, i) => ({ address: clientIp(i), asNumber: AS, passive: true, routeReflectorClient: true })));
const startConverge = performance.now();
const own = clients.map((_, i) => [`10.${100 + (i >> 6)}.${(i & 63) * 4}.0/26`]);
clients.forEach((c, i) => {
  c.setLocalPrefixes(own[i]);
  c.setPeers(rrs.map((rr) => ({ address: rr.routerId, port: PORT, asNumber: AS, sourceAddress: clientIp(i) })));
});
await until(() => clients.every((c) => c.status().every((p) => p.state === 'Established')), 60_000, 'all sessions Established');
await until(() => clients.every((c) => [...c.selected()].length === clients.length - 1), 60_000, 'initial convergence');
const converge = performance.now() - startConverge;

const perNode: number[] = [];
const lastNode: number[] = [];
for (let k = 0; k < trials; k++) {
  const o = (k * 37) % clients.length;
  const origin = clients[o];
  const prefix = `10.200.${k}.0/24`;
  let t0 = 0;
  const waits = clients.filter((c) => c !== origin).map((c) => arrival(c, prefix, () => t0));
  t0 = performance.now();
  own[o].push(prefix);
  origin.setLocalPrefixes(own[o]);
  const times = await Promise.all(waits);
  perNode.push(...times);
  lastNode.push(Math.max(...times));
}
const mem = process.memoryUsage();

console.log(`## BGP propagation: ${nodes} speakers (2 route reflectors, ${nodes - 2} clients) in one process, ${trials} trials\n`);
console.log('| measure | p50 (ms) | p99 (ms) | ratio to one hop (p50) |');
console.log('|---|---|---|---|');
console.log(`| anchor: one hop, one direct session | ${ms(quantile(oneHop, 0.5))} | ${ms(quantile(oneHop, 0.99))} | 1.0 |`);
console.log(`| block on one node → route at each other node | ${ms(quantile(perNode, 0.5))} | ${ms(quantile(perNode, 0.99))} | ${(quantile(perNode, 0.5) / quantile(oneHop, 0.5)).toFixed(1)} |`);
console.log(`| block on one node → route at the last node | ${ms(quantile(lastNode, 0.5))} | ${ms(quantile(lastNode, 0.99))} | ${(quantile(lastNode, 0.5) / quantile(oneHop, 0.5)).toFixed(1)} |`);
console.log(`\nInitial convergence (sessions up, every client has every other block): ${(converge / 1000).toFixed(2)} s; process RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB. Goal: p99 at the last node ≤ 1000 ms.`);
for (const s of all) await s.stop();
process.exit(0);
