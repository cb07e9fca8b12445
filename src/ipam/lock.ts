// A lock between plugin runs that the kernel releases when its holder dies.
//
// Node has no flock(2). The usual substitute, an O_EXCL lock file with stale
// detection by PID and age, has a race no care removes: two runs that both
// find the same stale file both delete it and one of them then deletes the
// other's fresh lock, so both proceed. Instead we bind a Unix socket in the
// abstract namespace (unix(7)): binding a name that is bound fails with
// EADDRINUSE, and the kernel unbinds it when the socket closes, including
// when the process is killed with SIGKILL. There is no stale lock to guess at.
//
// The name is derived from the device and inode of the locked directory (and
// a file name inside it), so every path that reaches the same directory gets
// the same lock. Abstract names belong to a network namespace: every process
// using one data directory must run in the same network namespace. The CNI
// runtime runs plugins in the host's, and the plugin enters a pod's namespace
// only on a worker thread, so that holds.

import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { statSync } from 'node:fs';
import { dirname, basename } from 'node:path';
import { NetletError } from '../errors.ts';

export class LockTimeoutError extends NetletError {
  constructor(what: string, ms: number) {
    super('ERR_IPAM_LOCK_TIMEOUT', `could not lock ${what} within ${ms} ms (another run holds it)`);
  }
}

export type Unlock = () => Promise<void>;

/** The abstract socket name of the lock for `file` (which need not exist; its directory must). */
export function lockName(file: string): string {
  const st = statSync(dirname(file));
  return `\0netlet-lock:${st.dev}:${st.ino}:${basename(file)}`;
}

function tryBind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    const onError = (err: NodeJS.ErrnoException): void => {
      server.close();
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    };
    server.once('error', onError);
    server.listen({ path: name, backlog: 1 }, () => {
      server.off('error', onError);
      server.unref();
      resolve(server);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for the lock on `file` (polling with jittered, growing pauses, as
 * there is nothing to block on) and returns the function that releases it.
 */
export async function acquireLock(file: string, timeoutMs: number): Promise<Unlock> {
  const name = lockName(file);
  const deadline = Date.now() + timeoutMs;
  let pause = 1;
  for (;;) {
    const server = await tryBind(name);
    if (server) {
      return () => new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(file, timeoutMs);
    await sleep(pause * (0.5 + Math.random()));
    pause = Math.min(pause * 2, 20);
  }
}

/** Runs `fn` holding the lock on `file`. */
export async function withLock<T>(file: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const unlock = await acquireLock(file, timeoutMs);
  try {
    return await fn();
  } finally {
    await unlock();
  }
}
