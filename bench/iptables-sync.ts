// Benchmark of the iptables backend: full and partial sync duration at 1k,
// 10k and 30k services × 3 endpoints, beside iptables-restore alone on the
// same text (the floor), for the nft and the legacy backend. Each size runs in
// a throwaway network namespace (never the host's tables).
//
//   npx node bench/iptables-sync.ts [--sizes 1000,10000,30000] [--modes nft,legacy] [--monolithic-max 10000] [--json FILE]
//
// --json FILE also writes the measured rows as JSON (bench/run.ts draws its sync-time chart from them).
//
// The backend runs in a child process started with the agent's Node flags and
// malloc settings (bin/runtime-flags.js), as `netlet agent` runs.
//
// Columns: full = first full sync into an empty namespace; resync = full sync
// over the same rules (what fullSyncPeriod does), each the median of SAMPLES
// runs up to 10k services; partial = one endpoint of one
// service replaced (the mean of PARTIALS such syncs, each on another service);
// netlet share = the agent's own CPU (render, iptables-save parsing, GC,
// spawning) over the sync's whole CPU (that plus iptables-restore/-save);
// floor = iptables-restore alone on the full sync's input;
// render = building that input without applying it; nft --noflush in one
// restore = the same input unchunked (the quadratic path, see backend.ts).

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MALLOC_ENV, NODE_FLAGS } from '../bin/runtime-flags.js';
import { IptablesBackend } from '../src/iptables/backend.ts';
import { CHUNK_PLANS } from '../src/iptables/backend.ts';
import { toolsFor } from '../src/iptables/tools.ts';
import type { IptablesMode } from '../src/iptables/tools.ts';
import { restore } from '../src/iptables/restore.ts';
import { renderSync } from '../src/iptables/render-sync.ts';
import { missingJumps } from '../src/iptables/render-fixed.ts';
import { buildConfig, iptablesBackendOptions } from '../src/agent/config.ts';
import { silentLogger } from '../src/base/log.ts';
import { planKey } from '../src/proxier/plan.ts';
import { planDecisions } from '../src/proxier/plan-builder.ts';
import type { PlanDecisions } from '../src/proxier/plan-builder.ts';
import type { PlanEndpoint, PlanSet, ServicePortPlan } from '../src/proxier/plan.ts';

/**
 * CPU seconds used so far by this process and by its waited-for children
 * (iptables-restore/-save): /proc/self/stat cutime+cstime, in clock ticks of
 * 10 ms. The machine is shared, so wall time alone says more about the other
 * load than about netlet; CPU time does not.
 */
function cpuMs(): { self: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: field 3 is index 0, so cutime (16) and cstime (17) are 13 and 14.
  const children = (Number(fields[13]) + Number(fields[14])) * 10;
  const u = process.cpuUsage();
  return { self: (u.user + u.system) / 1000, children };
}

interface Measured {
  ms: number;
  selfCpuMs: number;
  childCpuMs: number;
}

async function measure(f: () => Promise<unknown>): Promise<Measured> {
  const c0 = cpuMs();
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  const c1 = cpuMs();
  return { ms, selfCpuMs: c1.self - c0.self, childCpuMs: c1.children - c0.children };
}

interface ChildResult {
  mode: IptablesMode;
  services: number;
  full: Measured;
  resync: Measured;
  /** Every run's netlet share (%), of the full syncs and of the resyncs. */
  fullShares: number[];
  resyncShares: number[];
  partial: Measured;
  floor: Measured;
  render: Measured;
  monolithic: Measured | null;
  rules: number;
  peakRssMb: number;
}

/** Partial syncs measured per size (their mean is reported). */
const PARTIALS = 10;
/** Runs of the full sync and of the resync per size up to 10k services (the median is reported). */
const SAMPLES = 5;

const sharePercent = (m: Measured) => Math.round((100 * m.selfCpuMs) / Math.max(1, m.selfCpuMs + m.childCpuMs));

/** The run whose netlet share is the median. */
function median(runs: Measured[]): Measured {
  return [...runs].sort((a, b) => sharePercent(a) - sharePercent(b))[runs.length >> 1];
}

/** The median run's share, and the range over the runs when there were several. */
const shareSpread = (median: Measured, all: number[]) =>
  all.length > 1 ? `${share(median)} (${Math.min(...all)}–${Math.max(...all)}%)` : share(median);

function endpoint(i: number, e: number): PlanEndpoint {
  const n = i * 3 + e;
  return { ip: `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`, port: 8080, isLocal: false, ready: true, serving: true, terminating: false, nodeName: 'n2', zone: '' };
}

function makePlans(n: number): PlanSet {
  const plans: PlanSet = new Map();
  for (let i = 0; i < n; i++) {
    const eps = [0, 1, 2].map((e) => endpoint(i, e));
    const facts = {
      servicePortName: `ns${i % 100}/svc${i}:http`, namespace: `ns${i % 100}`, name: `svc${i}`, portName: 'http', protocol: 'tcp', family: 4,
      clusterIP: `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, port: 80,
      nodePort: i % 10 === 0 ? 30000 + (i % 2700) : 0,
      externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], loadBalancerSourceRangesIncludeNode: false, healthCheckNodePort: 0, affinityTimeoutSeconds: 0,
      internalTraffic: 'cluster', externalTraffic: 'cluster', allEndpoints: eps, clusterEndpoints: eps, localEndpoints: [], hasAnyEndpoints: true,
      masqueradeAll: false, clusterCIDRs: ['10.128.0.0/10'],
    } satisfies Omit<ServicePortPlan, keyof PlanDecisions>;
    const p: ServicePortPlan = { ...facts, ...planDecisions(facts) };
    plans.set(planKey(p), p);
  }
  return plans;
}

function flushOurTables(mode: IptablesMode): void {
  // Inside the throwaway namespace only.
  for (const table of ['nat', 'filter']) {
    execFileSync(`iptables-${mode}`, ['-t', table, '-F']);
    execFileSync(`iptables-${mode}`, ['-t', table, '-X']);
  }
}

async function child(mode: IptablesMode, n: number, monolithicRun: boolean): Promise<ChildResult> {
  const config = buildConfig({});
  const tools = toolsFor(mode, 4);
  let plans = makePlans(n);
  const newBackend = () => new IptablesBackend({ tools, log: silentLogger, ...iptablesBackendOptions(config) });
  let rules = 0;
  const sync = (backend: IptablesBackend, full: boolean, changed: string[] = []) =>
    measure(async () => {
      rules = (await backend.sync({ family: 4, plans, changed: new Set(changed), full, nodePortAddresses: [] })).ruleCount;
    });
  // One sample of a sync's CPU on this shared machine is noisy (±3 points of
  // netlet's share between runs): up to 10k services the first full sync and
  // the resync are each measured SAMPLES times, the tables emptied and a new
  // backend made before each first sync, and the median run reported.
  const samples = n <= 10_000 ? SAMPLES : 1;
  const fulls: Measured[] = [];
  const resyncs: Measured[] = [];
  let backend = newBackend();
  for (let k = 0; k < samples; k++) {
    if (k > 0) {
      flushOurTables(mode);
      backend = newBackend();
      // New plan objects too: a first sync knows no endpoint's chain name yet.
      plans = makePlans(n);
    }
    fulls.push(await sync(backend, true));
    resyncs.push(await sync(backend, true));
  }
  const full = median(fulls);
  const resync = median(resyncs);
  const keys = [...plans.keys()];
  const partials: Measured[] = [];
  for (let k = 0; k < PARTIALS; k++) {
    const key = keys[(k * 997) % keys.length];
    const p = plans.get(key)!;
    const replaced = { ...p, clusterEndpoints: [...p.clusterEndpoints.slice(1), endpoint(n + 7 + k, 0)] };
    replaced.allEndpoints = replaced.clusterEndpoints;
    plans.set(key, replaced);
    partials.push(await sync(backend, false, [key]));
  }
  // Children's CPU comes in 10 ms ticks: the mean over several partials says more than any one.
  const mean = (k: keyof Measured) => partials.reduce((a, m) => a + m[k], 0) / partials.length;
  const partial: Measured = { ms: mean('ms'), selfCpuMs: mean('selfCpuMs'), childCpuMs: mean('childCpuMs') };

  // The floor: the same full-sync input, restored alone into emptied tables.
  const ctx = { family: 4 as const, masqMark: '0x4000', nodePortAddresses: [], tcpBeLiberal: false, largeCluster: n * 3 > 1000 };
  const render = (chunkPlans: number) =>
    renderSync({
      plans, rewrite: new Set(plans.keys()), previous: new Map(), ctx, staleChains: () => [],
      missingJumps: { nat: missingJumps('nat', []), filter: missingJumps('filter', []) }, chunkPlans,
    });
  let inputs: string[] = [];
  const renderM = await measure(async () => {
    inputs = render(mode === 'nft' ? CHUNK_PLANS : 0).inputs;
  });
  flushOurTables(mode);
  const floor = await measure(async () => {
    for (const text of inputs) await restore(tools, text);
  });

  let monolithic: Measured | null = null;
  if (monolithicRun) {
    flushOurTables(mode);
    const one = render(0).inputs;
    monolithic = await measure(async () => {
      for (const text of one) await restore(tools, text);
    });
  }
  return { mode, services: n, full, resync, fullShares: fulls.map(sharePercent), resyncShares: resyncs.map(sharePercent), partial, floor, render: renderM, monolithic, rules, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

const s = (ms: number) => (ms / 1000).toFixed(2);
const share = (m: Measured) => `${Math.round((100 * m.selfCpuMs) / Math.max(1, m.selfCpuMs + m.childCpuMs))}%`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      sizes: { type: 'string', default: '1000,10000,30000' },
      modes: { type: 'string', default: 'legacy,nft' },
      'monolithic-max': { type: 'string', default: '10000' },
      json: { type: 'string' },
    },
  });
  if (values.child) {
    const [mode, n, mono] = values.child.split(':');
    process.stdout.write(JSON.stringify(await child(mode as IptablesMode, Number(n), mono === '1')) + '\n');
    return;
  }
  const rows: ChildResult[] = [];
  for (const mode of values.modes!.split(',') as IptablesMode[]) {
    for (const n of values.sizes!.split(',').map(Number)) {
      const ns = `nlbench${randomBytes(3).toString('hex')}`;
      execFileSync('ip', ['netns', 'add', ns]);
      try {
        const mono = mode === 'nft' && n <= Number(values['monolithic-max']) ? '1' : '0';
        // The backend runs with the agent's Node flags and malloc settings, as `netlet agent` starts it.
        const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...NODE_FLAGS.split(' '), fileURLToPath(import.meta.url), '--child', `${mode}:${n}:${mono}`], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
          env: { ...process.env, ...MALLOC_ENV },
        });
        if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
        const row = JSON.parse(r.stdout) as ChildResult;
        rows.push(row);
        process.stderr.write(`${mode} ${n}: full ${s(row.full.ms)} s\n`);
      } finally {
        execFileSync('ip', ['netns', 'del', ns]);
      }
    }
  }
  const cpu = (m: Measured) => m.selfCpuMs + m.childCpuMs;
  const out = [
    `Wall time, then CPU time (netlet + iptables children) in brackets. floor = iptables-restore alone on the same input. partial = the mean of ${PARTIALS} one-endpoint changes. netlet share = netlet CPU / (netlet + iptables) CPU of that sync; full and resync up to 10k services: the median of ${SAMPLES} runs, and their range.`,
    '',
    '| backend | services | rules | full sync | floor | full / floor (CPU) | netlet share: full | resync | netlet share: resync | partial sync | netlet share: partial | render alone (CPU) | render / full (CPU) | nft unchunked --noflush | peak RSS |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      [
        '', r.mode, r.services, r.rules,
        `${s(r.full.ms)} s [${s(cpu(r.full))}]`,
        `${s(r.floor.ms)} s [${s(r.floor.childCpuMs)}]`,
        (cpu(r.full) / Math.max(1, r.floor.childCpuMs)).toFixed(2),
        shareSpread(r.full, r.fullShares),
        `${s(r.resync.ms)} s [${s(cpu(r.resync))}]`,
        shareSpread(r.resync, r.resyncShares),
        `${(r.partial.ms / 1000).toFixed(3)} s [${(cpu(r.partial) / 1000).toFixed(3)}]`,
        share(r.partial),
        `${s(r.render.selfCpuMs)} s`,
        `${Math.round((100 * r.render.selfCpuMs) / Math.max(1, cpu(r.full)))}%`,
        r.monolithic === null ? '–' : `${s(r.monolithic.ms)} s [${s(r.monolithic.childCpuMs)}]`,
        `${Math.round(r.peakRssMb)} MB`, '',
      ].join(' | ').trim(),
    ),
  ];
  process.stdout.write(out.join('\n') + '\n');
  if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2) + '\n');
}

await main();
