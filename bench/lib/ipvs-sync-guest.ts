// The guest half of bench/ipvs-sync.ts, run inside User-Mode Linux: one
// scenario per size, each reporting its figures to the host. The guest is
// thrown away after, so it works in its own root namespace.

import { execFileSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { runScenarios, scenario } from '../../test/helpers/uml-guest.ts';
import { openIpvs } from '../../src/netlink/ipvs.ts';
import { IpvsTableSync } from '../../src/ipvs/table-sync.ts';
import type { IpvsState } from '../../src/ipvs/table-diff.ts';
import { renderPlan } from '../../src/ipvs/render-plan.ts';
import { IpvsBackend } from '../../src/ipvs/backend.ts';
import { KubeIpvs0 } from '../../src/ipvs/dummy-device.ts';
import { IpsetSync } from '../../src/ipvs/ipsets.ts';
import { IptablesRulesWriter } from '../../src/ipvs/iptables-writer.ts';
import { nodeAddresses } from '../../src/ipvs/node-addresses.ts';
import { toolsFor } from '../../src/iptables/tools.ts';
import { silentLogger } from '../../src/base/log.ts';
import { planKey } from '../../src/proxier/plan.ts';
import type { PlanSet } from '../../src/proxier/plan.ts';
import { benchEndpoint, benchPlan, benchPlans } from './sync-bench.ts';

const [sizesArg = '1000,10000', changesArg = '200'] = process.argv.slice(2);
const sizes = sizesArg.split(',').map(Number);
const changes = Number(changesArg);

function restoreInput(plans: PlanSet): string {
  const lines: string[] = [];
  for (const p of plans.values()) {
    lines.push(`-A -t ${p.clusterIP}:${p.port} -s rr`);
    for (const e of p.clusterEndpoints) lines.push(`-a -t ${p.clusterIP}:${p.port} -r ${e.ip}:${e.port} -m -w 1`);
  }
  return `${lines.join('\n')}\n`;
}

const clear = () => execFileSync('ipvsadm', ['-C']);
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

for (const n of sizes) {
  scenario(`${n} services × 3 endpoints`, async (s) => {
    const plans = benchPlans(n, () => 0);
    // Floor: ipvsadm --restore of the same servers.
    clear();
    const input = restoreInput(plans);
    let t0 = performance.now();
    execFileSync('ipvsadm', ['-R'], { input });
    const floorMs = performance.now() - t0;
    clear();

    // netlet's IPVS table sync alone: render, dump, diff, batched changes.
    const table = await openIpvs();
    t0 = performance.now();
    const desired: IpvsState = new Map();
    for (const p of plans.values()) for (const [k, vs] of renderPlan(p, { scheduler: 'rr', nodeIPs: [], foreignLocal: new Set() }).virtualServers) desired.set(k, vs);
    await new IpvsTableSync(table, 4, { owned: () => true }).sync(desired);
    const ipvsFullMs = performance.now() - t0;
    clear();

    // The whole backend: ipsets, iptables (legacy: UML has no iptables-nft), kube-ipvs0, IPVS.
    const ipsets = new IpsetSync(4);
    const device = new KubeIpvs0();
    const rules = new IptablesRulesWriter(toolsFor('legacy', 4));
    const backend = new IpvsBackend({
      family: 4,
      log: silentLogger,
      scheduler: 'rr',
      excludeCIDRs: [],
      masqueradeBit: 14,
      tcpBeLiberal: false,
      table,
      ipsets,
      device,
      rules,
      nodeAddresses,
    });
    const req = (full: boolean, changed: string[] = []) => ({ family: 4 as const, plans, changed: new Set(changed), full, nodePortAddresses: [] });
    t0 = performance.now();
    await backend.sync(req(true));
    const backendFullMs = performance.now() - t0;
    t0 = performance.now();
    await backend.sync(req(true));
    const resyncMs = performance.now() - t0;

    // One endpoint of one service replaced, a different service each time.
    const times: number[] = [];
    // Garbage-collection pauses during the changes: what a slow change overlapped.
    const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
    const gcs: Array<{ start: number; ms: number; kind: string }> = [];
    const gcObs = new PerformanceObserver((list) =>
      gcs.push(...list.getEntries().map((e) => ({ start: e.startTime, ms: e.duration, kind: GC_KINDS[((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? 0] ?? '?' }))),
    );
    gcObs.observe({ entryTypes: ['gc'] });
    const spans: Array<{ start: number; ms: number }> = [];
    let maxRoundTrips = 0;
    for (let c = 0; c < changes; c++) {
      const i = (c * 7919) % n;
      const before = plans.get(planKey(benchPlan(i, [], 0)))!;
      const eps = [...before.clusterEndpoints.slice(1), benchEndpoint(n + c, 0)];
      const changed = benchPlan(i, eps, 0);
      plans.set(planKey(changed), changed);
      const rt0 = table.roundTrips;
      t0 = performance.now();
      await backend.sync(req(false, [planKey(changed)]));
      times.push(performance.now() - t0);
      spans.push({ start: t0, ms: performance.now() - t0 });
      maxRoundTrips = Math.max(maxRoundTrips, table.roundTrips - rt0);
    }
    await new Promise((r) => setTimeout(r, 50));
    gcObs.disconnect();
    const gcsIn = (x: { start: number; ms: number }) => gcs.filter((g) => g.start < x.start + x.ms && g.start + g.ms > x.start);
    const overlapsGc = (x: { start: number; ms: number }) => gcsIn(x).length > 0;
    const slowest = [...spans].sort((a, b) => b.ms - a.ms).slice(0, Math.max(1, Math.ceil(changes / 100)));
    // What intact() (the integrity poll, every syncPeriod) costs at this size.
    t0 = performance.now();
    const intact = await backend.intact();
    s.data.intactMs = performance.now() - t0;
    if (!intact) throw new Error('intact() found damage nobody made');
    // Its parts, one by one.
    const part = async (name: string, f: () => Promise<unknown>) => {
      const t = performance.now();
      await f();
      return `${name} ${(performance.now() - t).toFixed(0)}`;
    };
    s.data.intactParts = [
      await part('services', () => table.listServices()),
      await part('real servers', () => table.countRealServers(4)),
      await part('addresses', () => device.addresses(4)),
      await part('ipsets', () => ipsets.intact()),
      await part('chains', () => rules.intact({ family: 4, masqMark: '0x4000', masqueradeAll: false, clusterCIDRs: [], nodePortAddresses: [], tcpBeLiberal: false })),
    ].join(', ');
    s.data.slowestDetail = [...spans]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 4)
      .map((x) => `${x.ms.toFixed(1)} ms${gcsIn(x).map((g) => ` [gc ${g.kind} ${g.ms.toFixed(1)}]`).join('')}`)
      .join('; ');
    await backend.cleanup();
    table.close();
    s.data.gcCount = gcs.length;
    s.data.gcMaxMs = Math.max(0, ...gcs.map((g) => g.ms));
    s.data.slowestWithGc = slowest.filter(overlapsGc).length;
    s.data.slowest = slowest.length;
    s.data.services = n;
    s.data.floorMs = floorMs;
    s.data.ipvsFullMs = ipvsFullMs;
    s.data.backendFullMs = backendFullMs;
    s.data.resyncMs = resyncMs;
    s.data.changeP50 = pct(times, 0.5);
    s.data.changeP99 = pct(times, 0.99);
    s.data.changeRoundTrips = maxRoundTrips;
    s.data.kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  }, 1_200_000);
}

process.exit(await runScenarios());
