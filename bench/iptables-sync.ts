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

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { IptablesBackend } from '../src/iptables/backend.ts';
import { CHUNK_PLANS } from '../src/iptables/backend.ts';
import { toolsFor } from '../src/iptables/tools.ts';
import type { IptablesMode } from '../src/iptables/tools.ts';
import { restore } from '../src/iptables/restore.ts';
import { renderSync } from '../src/iptables/render-sync.ts';
import { missingJumps } from '../src/iptables/render-fixed.ts';
import { buildConfig, ruleBackendOptions } from '../src/agent/config.ts';
import { silentLogger } from '../src/base/log.ts';
import { benchEndpoint, benchPlans, measure, runChildInNetns } from './lib/sync-bench.ts';
import type { Measured } from './lib/sync-bench.ts';

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

const endpoint = benchEndpoint;
const makePlans = (n: number) => benchPlans(n, (i) => (i % 10 === 0 ? 30000 + (i % 2700) : 0));

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
  const newBackend = () => new IptablesBackend({ tools, log: silentLogger, ...ruleBackendOptions(config, 'iptables') });
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
      const mono = mode === 'nft' && n <= Number(values['monolithic-max']) ? '1' : '0';
      // The backend runs with the agent's Node flags and malloc settings, as `netlet agent` starts it.
      const row = runChildInNetns<ChildResult>('nlbench', fileURLToPath(import.meta.url), `${mode}:${n}:${mono}`);
      rows.push(row);
      process.stderr.write(`${mode} ${n}: full ${s(row.full.ms)} s\n`);
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
