// Builds and removes the demo's namespaces, links and long-running processes.
// This plays the part of the machines and cables of a real cluster, so it
// uses the `ip` tool like an operator would; netlet's own kernel work (CNI,
// proxy, routes) still goes through netlink and iptables-restore.

import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { DEMO_PREFIX, EXTERNAL, NODES } from './layout.ts';

const execFileP = promisify(execFile);

/** Where a running demo keeps its files: tmpfs, gone at reboot like the namespaces. */
export const DEMO_DIR = `/run/${DEMO_PREFIX}`;
const STATE_FILE = `${DEMO_DIR}/state.json`;

export async function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const p = execFileP(cmd, args, { maxBuffer: 16 << 20, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30_000 });
  if (opts.input !== undefined) p.child.stdin?.end(opts.input);
  try {
    return (await p).stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

export const inNetns = (netns: string, cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) =>
  run('ip', ['netns', 'exec', netns, cmd, ...args], opts);

interface DemoState {
  pids: number[];
}

function readState(): DemoState {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as DemoState;
  } catch {
    return { pids: [] };
  }
}

/**
 * Starts a process inside a namespace that outlives the demo command (for
 * --keep): its own process group, output to a log file, pid in the state file.
 */
export function startDetached(netns: string, name: string, cmd: string, args: string[]): number {
  mkdirSync(`${DEMO_DIR}/logs`, { recursive: true });
  const log = openSync(`${DEMO_DIR}/logs/${name}.log`, 'a');
  const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const state = readState();
  state.pids.push(child.pid!);
  writeFileSync(STATE_FILE, JSON.stringify(state));
  return child.pid!;
}

export async function demoNamespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(`${DEMO_PREFIX}-`));
}

/**
 * Removes everything a demo made: its processes, namespaces (which takes
 * their interfaces, bridges, rules and routes with them), per-namespace
 * resolv.conf folders, and its files. Safe to run when nothing is there.
 */
export async function teardown(): Promise<void> {
  for (const pid of readState().pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const ns of await demoNamespaces()) {
    const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => '')).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
  for (const ns of [...NODES.map((n) => n.netns), EXTERNAL.netns]) rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  if (existsSync('/etc/netns')) {
    for (const entry of (await run('ls', ['/etc/netns'])).split('\n').filter((e) => e.startsWith(`${DEMO_PREFIX}-`))) {
      rmSync(`/etc/netns/${entry}`, { recursive: true, force: true });
    }
  }
  rmSync(DEMO_DIR, { recursive: true, force: true });
}

export async function addNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** A veth pair made directly between two namespaces, so the host's own namespace never holds an end. */
export async function cable(a: string, aIf: string, aAddr: string, b: string, bIf: string, bAddr: string): Promise<void> {
  await run('ip', ['link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b]);
  await run('ip', ['-n', a, 'addr', 'add', aAddr, 'dev', aIf]);
  await run('ip', ['-n', b, 'addr', 'add', bAddr, 'dev', bIf]);
  await run('ip', ['-n', a, 'link', 'set', aIf, 'up']);
  await run('ip', ['-n', b, 'link', 'set', bIf, 'up']);
}

/** The resolv.conf a kubelet writes for a pod in `default`; `ip netns exec` bind-mounts it. */
export function writePodResolvConf(netns: string, nameserver: string): void {
  mkdirSync(`/etc/netns/${netns}`, { recursive: true });
  writeFileSync(
    `/etc/netns/${netns}/resolv.conf`,
    `nameserver ${nameserver}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`,
  );
}
