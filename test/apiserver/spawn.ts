// Runs main.ts as a child process (optionally wrapped, e.g. in
// `ip netns exec NS`) and waits for its "listening <url>" line.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface SpawnedApiServer {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Arguments for main.ts (default ["--listen", "127.0.0.1:0"]). */
  args?: string[];
  /** A command prefix, e.g. ["ip", "netns", "exec", "node-a"]. */
  wrap?: string[];
  /** Give up after this long (default 20 s). */
  timeoutMs?: number;
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

export function spawnApiServer(o: SpawnOptions = {}): Promise<SpawnedApiServer> {
  const argv = [...(o.wrap ?? []), process.execPath, MAIN, ...(o.args ?? ['--listen', '127.0.0.1:0'])];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`test apiserver did not start in time: ${stderr}`));
    }, o.timeoutMs ?? 20_000);
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /listening (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1],
        child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`test apiserver exited (${code}) before listening: ${stderr}`));
    });
  });
}
