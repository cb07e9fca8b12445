// Runs a suite of scenarios inside User-Mode Linux, for what this host's
// kernel lacks (IPVS, IPIP, dummy devices). One boot per suite: boot costs
// 3–9 s and every process inside starts ~4× slower than on the host.
//
// How it fits together:
//   host test ──runInUml({ script, modules })──▶ linux.uml (hostfs root, read-only)
//     init.sh: proc/sys, tmpfs on /run and /tmp (so `ip netns add` stays in the guest),
//              the run directory mounted writable at the same path, modules loaded,
//              then `node SCRIPT` and `halt -f` whatever happens.
//   guest script (uses test/helpers/uml-guest.ts) ──results.jsonl──▶ host
//   host test: assertUmlResults(t, run, expectedNames) — one tap assertion per scenario,
//              and a failure for every expected scenario that did not report.
//
// The guest sees the host's filesystem, so the checkout, node_modules and
// dist/ are there at the same paths (a checkout under /tmp is mounted again
// over the guest's own /tmp); only the run directory is writable.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UML_KERNEL = '/usr/bin/linux.uml';
const UML_MODULES = '/usr/lib/uml/modules';

export interface UmlRunOptions {
  /** Absolute path of the .ts script run with this Node inside the guest. */
  script: string;
  args?: string[];
  /** Kernel modules loaded (with their dependencies) before the script starts, e.g. ['ip_vs', 'dummy']. */
  modules: string[];
  /** Whole run, boot included; the guest is killed after it. */
  timeoutMs: number;
  /** Guest memory; 1 GiB by default. */
  memoryMb?: number;
  /** Extra environment for the script. */
  env?: Record<string, string>;
  /** Keep the run directory (results, guest log) for debugging. */
  keep?: boolean;
}

export interface UmlScenarioResult {
  name: string;
  ok: boolean;
  ms: number;
  /** Why it failed (the error's message and stack), or what it measured. */
  detail?: string;
  /** Figures a scenario reports (benchmarks). */
  data?: Record<string, unknown>;
}

export interface UmlRun {
  results: UmlScenarioResult[];
  /** The guest script's exit status; null when it never finished (timeout, panic). */
  exitCode: number | null;
  timedOut: boolean;
  /** The script's stdout and stderr, and the modprobe output. */
  guestLog: string;
  /** The kernel console (last 8 KB). */
  console: string;
  ms: number;
}

/** Why UML cannot run here, or null. For `t.test(…, { skip })` only where the suite is optional; npm test never skips. */
export function umlMissing(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(UML_KERNEL)) return `${UML_KERNEL} is missing (Debian package user-mode-linux; scripts/setup.sh installs it)`;
  if (!existsSync(UML_MODULES)) return `${UML_MODULES} is missing (Debian package user-mode-linux)`;
  return null;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Host folders under /tmp the guest still needs after its own tmpfs covers
 * /tmp (a checkout cloned there, its Node): mounted again, read-only, at the
 * same paths. Outermost only.
 */
function hostDirsUnderTmp(): string[] {
  const dirs = [process.cwd(), dirname(realpathSync(process.execPath)), fileURLToPath(new URL('../..', import.meta.url))]
    .map((d) => d.replace(/\/+$/, ''))
    .filter((d) => d.startsWith('/tmp/'));
  return [...new Set(dirs)].filter((d, _, all) => !all.some((o) => o !== d && d.startsWith(`${o}/`)));
}

function initScript(dir: string, opts: UmlRunOptions): string {
  const env = { NETLET_UML_OUT: dir, ...(opts.env ?? {}) };
  const node = process.execPath;
  const cmd = [node, opts.script, ...(opts.args ?? [])].map(shellQuote).join(' ');
  // PID 1: if this script ever exits the guest kernel panics, so every path
  // ends in `halt -f`. The root is read-only; /run and /tmp are the guest's own.
  return `#!/bin/sh
export PATH=${shellQuote(`${join(node, '..')}:/usr/sbin:/usr/bin:/sbin:/bin`)}
export HOME=/tmp
${Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n')}
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
${hostDirsUnderTmp().map((d) => `mkdir -p ${shellQuote(d)} && mount -r -t hostfs none ${shellQuote(d)} -o ${shellQuote(d)}`).join('\n')}
mount -t hostfs none ${shellQuote(dir)} -o ${shellQuote(dir)}
mkdir -p /run/netns /tmp/modroot/lib/modules
ln -s ${UML_MODULES}/$(uname -r) /tmp/modroot/lib/modules/$(uname -r)
ip link set lo up
modprobe -d /tmp/modroot -a ${opts.modules.map(shellQuote).join(' ')} > ${shellQuote(join(dir, 'guest.log'))} 2>&1 || echo "modprobe failed" >> ${shellQuote(join(dir, 'guest.log'))}
cd ${shellQuote(process.cwd())}
${cmd} >> ${shellQuote(join(dir, 'guest.log'))} 2>&1
echo $? > ${shellQuote(join(dir, 'exit-code'))}
sync
halt -f
`;
}

/** Boots UML once, runs the script's scenarios, and returns what they reported. */
export async function runInUml(opts: UmlRunOptions): Promise<UmlRun> {
  const missing = umlMissing();
  if (missing) throw new Error(`User-Mode Linux cannot run: ${missing}`);
  // Not under /tmp: the guest mounts its own tmpfs there, and the run
  // directory must stay visible (and writable) at the same path inside.
  const dir = mkdtempSync('/var/tmp/netlet-uml-');
  const init = join(dir, 'init.sh');
  writeFileSync(init, initScript(dir, opts));
  chmodSync(init, 0o755);
  const started = Date.now();
  const args = [
    `mem=${opts.memoryMb ?? 1024}M`,
    'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'ro',
    `init=${init}`, 'con=null', 'con0=fd:0,fd:1', `uml_dir=${dir}`,
  ];
  const child = spawn(UML_KERNEL, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let consoleText = '';
  const keepTail = (chunk: Buffer): void => {
    consoleText = (consoleText + chunk.toString('latin1')).slice(-8192);
  };
  child.stdout.on('data', keepTail);
  child.stderr.on('data', keepTail);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, opts.timeoutMs);
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  clearTimeout(timer);
  // UML's helper threads can outlive the main process for a moment.
  killGroup(child.pid);
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  const exitText = read('exit-code').trim();
  const run: UmlRun = {
    results: parseResults(read('results.jsonl')),
    exitCode: exitText === '' ? null : Number(exitText),
    timedOut,
    guestLog: read('guest.log'),
    console: consoleText,
    ms: Date.now() - started,
  };
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  return run;
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function parseResults(text: string): UmlScenarioResult[] {
  const out: UmlScenarioResult[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as UmlScenarioResult);
    } catch {
      out.push({ name: '(unreadable result line)', ok: false, ms: 0, detail: line.slice(0, 500) });
    }
  }
  return out;
}

interface TapLike {
  ok(value: unknown, message: string, extra: Record<string, unknown>): unknown;
  fail(message: string, extra: Record<string, unknown>): unknown;
}

/**
 * One assertion per scenario the guest reported, and one failure for each
 * expected scenario that never reported (a crash, a timeout), with the tail
 * of the guest's log so the failure explains itself.
 */
export function assertUmlResults(t: TapLike, run: UmlRun, expected: string[]): void {
  const tail = (s: string): string => s.slice(-3000);
  for (const r of run.results) {
    t.ok(r.ok, `uml: ${r.name}`, r.ok ? {} : { detail: r.detail, guestLog: tail(run.guestLog) });
  }
  const seen = new Set(run.results.map((r) => r.name));
  for (const name of expected) {
    if (!seen.has(name)) {
      t.fail(`uml: ${name} never reported`, { timedOut: run.timedOut, exitCode: run.exitCode, guestLog: tail(run.guestLog), console: tail(run.console) });
    }
  }
}
