// What produced a report: CPU, memory, kernel, tool versions. Benchmark
// figures mean little without the machine they came from.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

function tool(cmd: string, args: string[], pick: (out: string) => string = (s) => s.split('\n')[0]): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return pick(out).trim() || '(no output)';
  } catch (err) {
    // Some tools (dnsperf -h) print their version and exit non-zero.
    const e = err as { stdout?: string; stderr?: string };
    const text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    return text ? pick(text).trim() : 'not installed';
  }
}

export function machineFacts(now = new Date()): [string, string][] {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const count = cpuinfo.split('\n').filter((l) => l.startsWith('processor')).length;
  return [
    ['date (UTC)', now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')],
    ['CPU', `${model} × ${count}`],
    ['memory', `${(totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['load average at start', loadavg().map((l) => l.toFixed(1)).join(' ')],
    ['kernel', tool('uname', ['-r'])],
    ['Node.js', process.version],
    ['iptables (default backend)', tool('iptables', ['--version'])],
    ['iptables-legacy', tool('iptables-legacy', ['--version'])],
    ['iperf3', tool('iperf3', ['--version'])],
    ['dnsperf', tool('dnsperf', ['-h'], (s) => `dnsperf ${/^Version\s+(\S+)/m.exec(s)?.[1] ?? '(version not printed)'}`)],
  ];
}
