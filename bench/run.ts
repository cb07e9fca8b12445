// The one entry point of netlet's benchmarks: `npm run bench`. Runs each
// part (bench/<name>.ts) as its own process with a time limit, collects the
// Markdown tables they print, and writes one report with the machine that
// produced it, plus the proxy sync-time chart.
//
//   npm run bench -- [--only iperf,routes,proxy,watch,state,api,cni,ipam,dns] [--quick | --full] [--out DIR]
//
// --quick  small sizes, for a fast look (a couple of minutes)
// (none)   the default sizes: the whole run fits in 10 minutes on 2 cores
// --full   adds the big rows (30k services, full CNI and IPAM counts)
// A part that fails or times out is reported as failed; the others still run.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChild, stopAll } from './lib/child.ts';
import { machineFacts } from './lib/machine.ts';
import { parseTables } from './lib/markdown.ts';
import { selectParts } from './lib/parts.ts';
import type { Mode, Part } from './lib/parts.ts';
import { assembleReport, judge } from './lib/report.ts';
import type { PartResult } from './lib/report.ts';
import { pointsFromJson, pointsFromTable, syncChart } from './lib/sync-chart.ts';

const ROOT = resolve(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean' },
    full: { type: 'boolean' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(readFileSync(import.meta.filename, 'utf8').split('\n\n')[0].replace(/^\/\/ ?/gm, '') + '\n');
  process.exit(0);
}
if (values.quick && values.full) {
  process.stderr.write('--quick and --full exclude each other\n');
  process.exit(2);
}
const mode: Mode = values.quick ? 'quick' : values.full ? 'full' : 'default';
const outDir = resolve(values.out!);
let parts: Part[];
try {
  parts = selectParts(values.only);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
// The chart must never be drawn from an earlier run's numbers.
rmSync(join(outDir, 'iptables-sync.json'), { force: true });

const say = (s: string) => process.stderr.write(`${s}\n`);
// Shown in the report as a reader would type it, from the project folder.
const commandOf = (p: Part) =>
  ['npx node', ...(p.nodeFlags ?? []), p.script, ...p.args(mode, outDir).map((a) => (a.startsWith(`${ROOT}/`) ? relative(ROOT, a) : a))].join(' ');

// A Node start reads NODE_EXTRA_CA_CERTS (~47 ms each); a cluster node has none, and the CNI part times process starts.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  say('\ninterrupted: stopping the running part (it cleans up after itself)');
  void stopAll();
});

async function runPart(p: Part): Promise<PartResult> {
  const command = commandOf(p);
  if (!existsSync(join(ROOT, p.script))) return { name: p.name, command, status: 'skipped', reason: `${p.script} does not exist (yet)` };
  if (interrupted) return { name: p.name, command, status: 'skipped', reason: 'the run was interrupted' };
  say(`▶ ${p.name}: ${command}`);
  // process.execPath is the Node this runner runs on (the project's Node 24 under npm run).
  const r = await runChild(process.execPath, [...(p.nodeFlags ?? []), p.script, ...p.args(mode, outDir)], {
    timeoutMs: p.timeoutSeconds * 1000,
    cwd: ROOT,
    env,
    onStderr: (s) => process.stderr.write(s.replace(/^(?=.)/gm, '    ')),
  });
  if (!r.ok && p.cleanupArgs) await runChild(process.execPath, [p.script, ...p.cleanupArgs], { timeoutMs: 60_000, cwd: ROOT, env });
  const reason = !r.ok && interrupted ? 'interrupted' : r.reason || undefined;
  const result = judge({ name: p.name, command, status: r.ok ? 'ok' : 'failed', reason, seconds: r.seconds, stdout: r.stdout, stderr: r.stderr });
  say(`  ${result.status}${result.reason ? ` (${result.reason})` : ''} in ${r.seconds.toFixed(1)} s`);
  return result;
}

/** The chart from the iptables part: its --json rows, else its Markdown table. */
function writeChart(results: PartResult[]): string | undefined {
  const sync = results.find((r) => r.command.includes('bench/iptables-sync.ts') && r.status === 'ok');
  if (!sync) return undefined;
  const json = join(outDir, 'iptables-sync.json');
  const points = existsSync(json)
    ? pointsFromJson(JSON.parse(readFileSync(json, 'utf8')))
    : pointsFromTable(parseTables(sync.stdout ?? '').find((t) => t.header.includes('partial sync'))!);
  const file = join(outDir, 'sync-time.svg');
  writeFileSync(file, syncChart(points));
  return file;
}

const t0 = performance.now();
const facts = machineFacts();
const results: PartResult[] = [];
for (const p of parts) results.push(await runPart(p));
const notes = [
  'Wall-clock figures depend on what else the machine was doing; parts that print CPU time beside wall time are the steadier measure on a shared machine.',
];
const chart = writeChart(results);
if (chart) notes.push(`Proxy sync time against the number of services: [sync-time.svg](sync-time.svg).`);
const report = assembleReport({ facts, parts: results, mode, totalSeconds: (performance.now() - t0) / 1000, notes });
writeFileSync(join(outDir, 'report.md'), report);
say(`\nreport: ${join(outDir, 'report.md')}${chart ? `\nchart:  ${chart}` : ''} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
process.exitCode = interrupted ? 130 : results.some((r) => r.status === 'failed') ? 1 : 0;
