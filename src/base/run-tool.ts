// Runs a short-lived tool (iptables-restore, iptables-save, iptables) with
// its input on stdin, and collects its exit code, stdout and stderr.
//
// Started with posix_spawn (native/spawn.c) when the addon is built, because
// child_process's fork copies the whole agent's page table on every sync;
// node:child_process is the fallback, with the same result
// (docs/design/agent-memory.md#starting-tools-with-posix_spawn).
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
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

/** A tool started with its stdin open: write its input in pieces, then `end()`. */
export interface RunningTool {
  /**
   * Writes one piece of the input. Resolves at once while the pipe takes it,
   * else when it has drained, so a caller that awaits each write holds at
   * most one piece: the rest is already in the tool. Resolves false when the
   * tool takes no more (it exited early on bad input: its exit code and
   * stderr say why).
   */
  write(text: string): Promise<boolean>;
  /** Closes stdin and waits for the tool to exit. */
  end(): Promise<ToolResult>;
}

/** Runs `cmd args` (looked up in PATH) with `input` on stdin. Rejects only when it cannot be started (ENOENT and the like). */
export async function runTool(cmd: string, args: string[], input = ''): Promise<ToolResult> {
  const tool = startTool(cmd, args);
  if (input) void tool.write(input);
  return tool.end();
}

/** Runs `cmd args` with nothing on stdin and hands its stdout over as bytes, so a large output is never one string (docs/design/iptables-sync.md#reading-iptables-save-as-bytes). */
export async function runToolForBytes(cmd: string, args: string[]): Promise<ToolBytesResult> {
  const { stdin, result } = start(cmd, args);
  stdin.on('error', () => {}); // the exit code tells
  stdin.end();
  return result;
}

/** Starts `cmd args` (looked up in PATH) for input written in pieces. Throws only when it cannot be started. */
export function startTool(cmd: string, args: string[]): RunningTool {
  const { stdin, result } = start(cmd, args);
  return feeding(
    stdin,
    result.then((r) => ({ code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr })),
  );
}

export interface ToolBytesResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function start(cmd: string, args: string[]): { stdin: Writable; result: Promise<ToolBytesResult> } {
  const a = spawnAddon();
  return a ? startSpawned(a, cmd, args) : startForked(cmd, args);
}

function startSpawned(a: SpawnAddon, cmd: string, args: string[]): { stdin: Writable; result: Promise<ToolBytesResult> } {
  let started: ReturnType<SpawnAddon['spawn']>;
  try {
    started = a.spawn(cmd, args);
  } catch (err) {
    throw withErrnoName(err as NodeJS.ErrnoException);
  }
  const [pid, inFd, outFd, errFd] = started;
  const stdin = new Socket({ fd: inFd, readable: false, writable: true });
  const result = Promise.all([readAll(outFd), readAll(errFd), a.wait(pid)]).then(([stdout, stderr, [code, signal]]) => ({
    code: signal ? 128 + signal : code,
    stdout,
    stderr: stderr.toString('utf8'),
  }));
  return { stdin, result };
}

/** write/end over a tool's stdin, with backpressure; `result` settles when the tool has exited. */
function feeding(stdin: Writable, result: Promise<ToolResult>): RunningTool {
  let closed = false;
  // EPIPE when the tool exits early on bad input: its stderr says why.
  stdin.on('error', () => {
    closed = true;
  });
  stdin.on('close', () => {
    closed = true;
  });
  return {
    write(text: string): Promise<boolean> {
      if (closed) return Promise.resolve(false);
      if (stdin.write(text)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = () => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve(!closed);
        };
        stdin.on('drain', done);
        stdin.on('close', done);
      });
    },
    end(): Promise<ToolResult> {
      if (!closed) stdin.end();
      return result;
    },
  };
}

function readAll(fd: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('error', () => {}); // a read error ends the output; the exit code tells the rest
    s.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

function startForked(cmd: string, args: string[]): { stdin: Writable; result: Promise<ToolBytesResult> } {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const result = new Promise<ToolBytesResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
  return { stdin: child.stdin, result };
}
