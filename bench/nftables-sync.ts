// Benchmark of the nftables backend at N services × 3 endpoints (TCP, one
// NodePort in ten), each size in a throwaway network namespace (never the
// host's tables):
//
//   npx node bench/nftables-sync.ts [--sizes 1000,10000] [--anchor-max 5000] [--anchor-timeout 60] [--connects 2000]
//
// Columns: full = the backend's first full sync into an empty namespace
// (render + one `nft -f`); floor = `nft -f` alone of the same input;
// resync = a full sync over its own result (fullSyncPeriod); restart = a
// new backend's first full sync over that table (a restarted agent adopting
// it: the table's digest matches its plans, nothing is read back); restart,
// a service gone meanwhile = the same with one service fewer (the digest
// differs: the maps are read back and the stale elements removed); partial = one
// endpoint of one service replaced (p50 / p99 over PARTIALS syncs, each
// another service), from the backend's sync() call to the kernel's answer
// (an element-only change: one nf_tables netlink batch, as in the agent);
// kube-proxy layout = the same services in kube-proxy's nftables layout (a
// chain per service with an anonymous `numgen … vmap`, a chain per endpoint),
// generated here and loaded with `nft -f` (the anchor; skipped above
// --anchor-max, it grows quadratically, and stopped after --anchor-timeout
// seconds, shown as "> N s"); connect = `connect()` latency p50 /
// p99 to a ClusterIP with 1 service loaded and with N (the first-packet
// cost); RSS = the benchmark child's peak RSS (the backend and its renders,
// not a whole agent). CPU = this process plus its nft children.
//
// The child runs with the agent's Node flags and malloc settings (bin/runtime-flags.js).

import { execFileSync, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { NftablesBackend } from '../src/nftables/backend.ts';
import { systemNft } from '../src/nftables/nft.ts';
import { NetlinkElementWriter } from '../src/nftables/element-writer.ts';
import type { NftRunner } from '../src/nftables/nft.ts';
import { silentLogger } from '../src/base/log.ts';
import { planKey } from '../src/proxier/plan.ts';
import type { PlanEndpoint } from '../src/proxier/plan.ts';
import { benchEndpoint, benchPlan, benchPlans, measure, runChildInNetns } from './lib/sync-bench.ts';
import type { Measured } from './lib/sync-bench.ts';

const PARTIALS = 40;

/** CPU of this process and its nft children. */
const cpu = (m: Measured) => m.selfCpuMs + m.childCpuMs;

/** One NodePort in ten: service i has 30000 + i/10. */
const nodePortOf = (i: number) => (i % 10 === 0 ? 30000 + i / 10 : 0);
const makePlan = (i: number, eps: PlanEndpoint[]) => benchPlan(i, eps, nodePortOf(i));
const makePlans = (n: number) => benchPlans(n, nodePortOf);
const endpoint = benchEndpoint;

/** kube-proxy's nftables layout for the same services (read for its shape, written here): the anchor. */
function kubeProxyLayout(n: number): string {
  const out: string[] = [
    'add table ip kube-proxy',
    'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100; policy accept; }',
    'add chain ip kube-proxy services',
    'add chain ip kube-proxy mark-for-masquerade',
    'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }',
    'add rule ip kube-proxy nat-prerouting jump services',
    'add rule ip kube-proxy mark-for-masquerade meta mark set meta mark or 0x4000',
    'add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips',
  ];
  for (let i = 0; i < n; i++) {
    const svc = `service-${i}-ns${i % 100}-svc${i}-http`;
    const clusterIP = `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    const eps = [0, 1, 2].map((e) => endpoint(i, e));
    out.push(`add chain ip kube-proxy ${svc}`);
    const targets: string[] = [];
    eps.forEach((ep, e) => {
      const chain = `endpoint-${i}-${e}-ns${i % 100}-svc${i}`;
      targets.push(`${e} : goto ${chain}`);
      out.push(`add chain ip kube-proxy ${chain}`);
      out.push(`add rule ip kube-proxy ${chain} ip saddr ${ep.ip} jump mark-for-masquerade`);
      out.push(`add rule ip kube-proxy ${chain} meta l4proto tcp dnat to ${ep.ip}:${ep.port}`);
    });
    out.push(`add rule ip kube-proxy ${svc} ip daddr ${clusterIP} tcp dport 80 ip saddr != 10.128.0.0/10 jump mark-for-masquerade`);
    out.push(`add rule ip kube-proxy ${svc} numgen random mod 3 vmap { ${targets.join(', ')} }`);
    out.push(`add element ip kube-proxy service-ips { ${clusterIP} . tcp . 80 : goto ${svc} }`);
  }
  return out.join('\n') + '\n';
}

async function nftF(text: string): Promise<void> {
  const r = await systemNft.run(['-f', '-'], text);
  if (r.code !== 0) throw new Error(`nft -f: ${r.stderr.slice(0, 500)}`);
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** connect() latencies (µs) to 10.96.0.0:80, DNATed to a server on an address of this namespace. */
async function connectLatencies(count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: '10.96.0.0', port: 80 }, () => {
        out.push(Number(process.hrtime.bigint() - t0) / 1000);
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
  }
  return out;
}

interface ChildResult {
  services: number;
  elementsAndRules: number;
  full: Measured;
  floor: Measured;
  resync: Measured;
  restart: Measured;
  restartChanged: Measured;
  partialP50: number;
  partialP99: number;
  anchor?: Measured;
  /** The anchor was stopped after this many seconds. */
  anchorTimedOutS?: number;
  connect1?: [number, number];
  connectN?: [number, number];
  inputMb: number;
  peakRssMb: number;
}

async function child(n: number, anchor: boolean, connects: number, anchorTimeoutS: number): Promise<ChildResult> {
  // The agent's runner, keeping the pieces of the last `nft -f` input (joined after the measure: the floor's input).
  let lastPieces: string[] = [];
  const recording: NftRunner = {
    run: (args, input) => {
      if (args[0] === '-f') lastPieces = [input ?? ''];
      return systemNft.run(args, input);
    },
    runPieces: (args, pieces) => {
      lastPieces = [];
      return systemNft.runPieces!(args, (function* () {
        for (const p of pieces) {
          lastPieces.push(p);
          yield p;
        }
      })());
    },
  };
  const plans = makePlans(n);
  // Its element-only partial syncs over netlink, as the agent's (the recording runner alone would send them through nft).
  const backend = new NftablesBackend({ family: 4, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false, nft: recording, elements: new NetlinkElementWriter(4) });
  const sync = (full: boolean, changed: string[] = []) => backend.sync({ family: 4, plans, changed: new Set(changed), full, nodePortAddresses: [] });
  let rules = 0;
  const full = await measure(async () => (rules = (await sync(true)).ruleCount));
  const input = lastPieces.join('');
  const resync = await measure(() => sync(true));
  // A restarted agent: a new backend's first full sync over the table the last one left.
  const restarted = new NftablesBackend({ family: 4, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false });
  const restart = await measure(() => restarted.sync({ family: 4, plans, changed: new Set(), full: true, nodePortAddresses: [] }));
  // A restart after a service went away while the agent was down: the digest differs, the maps are read back.
  const fewer = new Map(plans);
  fewer.delete(plans.keys().next().value!);
  const restartedAfterChange = new NftablesBackend({ family: 4, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false });
  const restartChanged = await measure(() => restartedAfterChange.sync({ family: 4, plans: fewer, changed: new Set(), full: true, nodePortAddresses: [] }));
  await restarted.sync({ family: 4, plans, changed: new Set(), full: true, nodePortAddresses: [] });
  const partials: number[] = [];
  for (let k = 0; k < PARTIALS; k++) {
    const i = Math.floor((k * n) / PARTIALS);
    const before = plans.get(`ns${i % 100}/svc${i}:http/tcp`)!;
    const changed = makePlan(i, [before.clusterEndpoints[1], before.clusterEndpoints[2], endpoint(n + k, 0)]);
    plans.set(planKey(changed), changed);
    const t0 = performance.now();
    await sync(false, [planKey(changed)]);
    partials.push(performance.now() - t0);
  }

  // The first-packet cost: one ClusterIP served from this namespace, with N services loaded and with 1.
  let connect1: [number, number] | undefined;
  let connectN: [number, number] | undefined;
  if (connects > 0) {
    execFileSync('ip', ['link', 'set', 'lo', 'up']);
    execFileSync('ip', ['addr', 'add', '10.200.0.1/32', 'dev', 'lo']);
    // A route to the service range, as a node's default route gives it (routing comes before the output hook's DNAT).
    execFileSync('ip', ['route', 'add', '10.96.0.0/12', 'dev', 'lo']);
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(8080, '10.200.0.1', r));
    const target = makePlan(0, [{ ...endpoint(0, 0), ip: '10.200.0.1' }]);
    const withTarget = new Map(plans);
    withTarget.set(planKey(target), target);
    await backend.sync({ family: 4, plans: withTarget, changed: new Set([planKey(target)]), full: false, nodePortAddresses: [] });
    await connectLatencies(200);
    const many = await connectLatencies(connects);
    await backend.sync({ family: 4, plans: new Map([[planKey(target), target]]), changed: new Set(), full: true, nodePortAddresses: [] });
    await connectLatencies(200);
    const one = await connectLatencies(connects);
    connect1 = [percentile(one, 50), percentile(one, 99)];
    connectN = [percentile(many, 50), percentile(many, 99)];
    server.close();
  }

  await nftF('delete table ip netlet\n');
  const floor = await measure(() => nftF(input));
  await nftF('delete table ip netlet\n');
  let anchorM: Measured | undefined;
  let anchorTimedOutS: number | undefined;
  if (anchor) {
    const text = kubeProxyLayout(n);
    let timedOut = false;
    anchorM = await measure(async () => {
      const r = spawnSync('nft', ['-f', '-'], { input: text, timeout: anchorTimeoutS * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 20 });
      timedOut = r.error !== undefined || r.signal !== null;
      if (!timedOut && r.status !== 0) throw new Error(`nft -f (kube-proxy layout): ${r.stderr.toString().slice(0, 500)}`);
    });
    if (timedOut) anchorTimedOutS = anchorTimeoutS;
    // Stopped, the transaction may or may not have landed.
    await systemNft.run(['-f', '-'], 'add table ip kube-proxy\ndelete table ip kube-proxy\n');
  }
  return {
    services: n,
    elementsAndRules: rules,
    full,
    floor,
    resync,
    restart,
    restartChanged,
    partialP50: percentile(partials, 50),
    partialP99: percentile(partials, 99),
    anchor: anchorM,
    anchorTimedOutS,
    connect1,
    connectN,
    inputMb: Buffer.byteLength(input) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

const s = (m: Measured) => `${(m.ms / 1000).toFixed(2)} s [${(cpu(m) / 1000).toFixed(2)}]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      sizes: { type: 'string', default: '1000,10000' },
      'anchor-max': { type: 'string', default: '5000' },
      'anchor-timeout': { type: 'string', default: '60' },
      connects: { type: 'string', default: '2000' },
    },
  });
  if (values.child) {
    const [n, anchor, connects, anchorTimeoutS] = values.child.split(':').map(Number);
    process.stdout.write(JSON.stringify(await child(n, anchor === 1, connects, anchorTimeoutS)) + '\n');
    return;
  }
  const rows: ChildResult[] = [];
  for (const n of values.sizes!.split(',').map(Number)) {
    const anchor = n <= Number(values['anchor-max']) ? 1 : 0;
    const row = runChildInNetns<ChildResult>('nlnftb', fileURLToPath(import.meta.url), `${n}:${anchor}:${values.connects}:${Number(values['anchor-timeout'])}`);
    rows.push(row);
    process.stderr.write(`${n}: full ${s(row.full)}\n`);
  }
  const us = (x?: [number, number]) => (x ? `${Math.round(x[0])} / ${Math.round(x[1])} µs` : '-');
  const out = [
    `Wall time, CPU time (this process + nft) in brackets. partial: p50 / p99 of ${PARTIALS} one-endpoint changes, sync() to the kernel's answer. connect: p50 / p99.`,
    '',
    '| services | elements + rules | nft -f input | full sync | floor (nft -f alone) | full / floor (CPU) | resync | restart (adopt) | restart, a service gone meanwhile | partial sync | kube-proxy layout, nft -f | connect, 1 service | connect, N services | peak RSS |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      [
        '', r.services, r.elementsAndRules, `${r.inputMb.toFixed(1)} MB`, s(r.full), s(r.floor), (cpu(r.full) / cpu(r.floor)).toFixed(2), s(r.resync), s(r.restart), s(r.restartChanged),
        `${r.partialP50.toFixed(1)} / ${r.partialP99.toFixed(1)} ms`, r.anchorTimedOutS ? `> ${r.anchorTimedOutS} s` : r.anchor ? s(r.anchor) : '-', us(r.connect1), us(r.connectN), `${Math.round(r.peakRssMb)} MB`, '',
      ].join(' | ').trim(),
    ),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

await main();
