// Starting a tool from a big process: posix_spawn (native/spawn.c, what the
// iptables backend uses) against node:child_process (fork), at several
// resident sizes of the calling process. Each row runs in its own process;
// the tool is `true` with one byte on stdin, as iptables-restore gets its input.
//
//   npx node bench/spawn.ts [--runs 40]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '40' }, child: { type: 'string' } } });
const RUNS = Number(values.runs);

if (values.child) {
  const [mb] = values.child.split(':').map(Number);
  const { runTool, toolSpawnMethod } = await import('../src/base/run-tool.ts');
  // Resident memory as an agent holds it: many small objects, some buffers.
  const keep: unknown[] = [];
  for (let i = 0; i < mb / 2; i++) keep.push(Buffer.alloc(1 << 20, 1));
  for (let i = 0; i < mb * 2000; i++) keep.push({ a: i, b: String(i) });
  const times: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await runTool('true', [], 'x');
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(c0);
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((times.length * p) / 100))];
  process.stdout.write(JSON.stringify({ method: toolSpawnMethod(), rssMb: process.memoryUsage.rss() / 2 ** 20, p50: pct(50), p90: pct(90), cpuMs: (cpu.user + cpu.system) / 1000 / RUNS }));
} else {
  const here = fileURLToPath(import.meta.url);
  console.log(`${RUNS} runs of \`true\` per row; wall time from the call to the collected exit; CPU of the calling process per run.\n`);
  console.log('| calling process RSS | posix_spawn p50 / p90 (ms) | its CPU per run (ms) | fork p50 / p90 (ms) | its CPU per run (ms) | fork / posix_spawn, p50 |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const mb of [50, 150, 300]) {
    const row = (env: Record<string, string>) => {
      const r = spawnSync(process.execPath, [here, '--child', String(mb), '--runs', String(RUNS)], { env: { ...process.env, ...env }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as { method: string; rssMb: number; p50: number; p90: number; cpuMs: number };
    };
    const a = row({});
    const f = row({ NETLET_SPAWN: 'node' });
    if (a.method !== 'posix_spawn') throw new Error('the spawn addon is not built (npm install builds native/)');
    console.log(`| ${a.rssMb.toFixed(0)} / ${f.rssMb.toFixed(0)} MB | ${a.p50.toFixed(2)} / ${a.p90.toFixed(2)} | ${a.cpuMs.toFixed(2)} | ${f.p50.toFixed(2)} / ${f.p90.toFixed(2)} | ${f.cpuMs.toFixed(2)} | ${(f.p50 / a.p50).toFixed(1)} |`);
  }
}
