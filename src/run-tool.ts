// Runs a short-lived tool (iptables-restore, iptables-save, iptables) with
// its input on stdin, and collects its exit code, stdout and stderr.
//
// Through posix_spawn (native/spawn.c) when the addon is built: Node's
// child_process forks, which copies the page table of the whole agent (at
// 10k services 130-180 MB resident) on every sync; posix_spawn copies
// nothing. node:child_process stays the fallback, with the same result.
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { findAddon, withErrnoName } from './native-addon.ts';

export interface ToolResult {
  /** The exit code; 128 + the signal's number when a signal ended it (as a shell reports it). */
  code: number;
  stdout: string;
  stderr: string;
}

interface SpawnAddon {
  spawn(file: string, args: string[]): [pid: number, stdin: number, stdout: number, stderr: number];
  wait(pid: number): Promise<[code: number, signal: number]>;
}

let addon: SpawnAddon | null | undefined;

function spawnAddon(): SpawnAddon | null {
  if (addon === undefined) addon = process.env.NETLET_SPAWN === 'node' ? null : (findAddon<SpawnAddon>('netlet_spawn') ?? null);
  return addon;
}

/** Which way tools are started: 'posix_spawn' (the addon) or 'fork' (node:child_process). */
export function toolSpawnMethod(): 'posix_spawn' | 'fork' {
  return spawnAddon() ? 'posix_spawn' : 'fork';
}

/** Runs `cmd args` (looked up in PATH) with `input` on stdin. Rejects only when it cannot be started (ENOENT and the like). */
export function runTool(cmd: string, args: string[], input = ''): Promise<ToolResult> {
  const a = spawnAddon();
  return a ? runSpawned(a, cmd, args, input) : runForked(cmd, args, input);
}

async function runSpawned(a: SpawnAddon, cmd: string, args: string[], input: string): Promise<ToolResult> {
  let started: ReturnType<SpawnAddon['spawn']>;
  try {
    started = a.spawn(cmd, args);
  } catch (err) {
    throw withErrnoName(err as NodeJS.ErrnoException);
  }
  const [pid, inFd, outFd, errFd] = started;
  const stdin = new Socket({ fd: inFd, readable: false, writable: true });
  // EPIPE when the tool exits early on bad input: its stderr says why.
  stdin.on('error', () => {});
  stdin.end(input);
  const [stdout, stderr, [code, signal]] = await Promise.all([readAll(outFd), readAll(errFd), a.wait(pid)]);
  return { code: signal ? 128 + signal : code, stdout, stderr };
}

function readAll(fd: number): Promise<string> {
  return new Promise((resolve) => {
    const s = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('error', () => {}); // a read error ends the output; the exit code tells the rest
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function runForked(cmd: string, args: string[], input: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
