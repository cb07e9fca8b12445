// Runs one bench part as a child process with a time limit. The child gets
// its own process group so a timeout (or a Ctrl-C of the runner) can end it
// and everything it started, and nothing else.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface ChildOutcome {
  ok: boolean;
  /** Why it failed: exit status, signal or timeout. */
  reason: string;
  stdout: string;
  stderr: string;
  seconds: number;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Ends every running part (SIGTERM so they clean up, SIGKILL 5 s later). */
export function stopAll(): Promise<void> {
  const waits = [...running].map(
    (c) =>
      new Promise<void>((done) => {
        c.once('close', () => done());
        killGroup(c, 'SIGTERM');
        setTimeout(() => killGroup(c, 'SIGKILL'), 5000).unref();
      }),
  );
  return Promise.all(waits).then(() => undefined);
}

export function runChild(cmd: string, args: string[], opts: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv; onStderr?: (s: string) => void }): Promise<ChildOutcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      opts.onStderr?.(s);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), 5000).unref();
    }, opts.timeoutMs);
    const finish = (reason: string, ok: boolean) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ ok, reason, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    };
    child.on('error', (err) => finish(`could not start: ${err.message}`, false));
    child.on('close', (code, signal) => {
      if (timedOut) finish(`timed out after ${opts.timeoutMs / 1000} s`, false);
      else if (code === 0) finish('', true);
      else finish(signal ? `killed by ${signal}` : `exit status ${code}`, false);
    });
  });
}
