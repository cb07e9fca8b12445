// A lock between plugin runs that the kernel releases when its holder dies.
//
// Node has no flock(2). The usual substitute, an O_EXCL lock file with stale
// detection by PID and age, has a race no care removes: two runs that both
// find the same stale file both delete it, and one of them may delete the
// other's fresh lock, so both proceed. An abstract Unix socket is released by
// the kernel, but its name belongs to a network namespace, and the plugins of
// the demo's "nodes" run in different namespaces while sharing a claims file.
//
// So the lock is a POSIX record lock (fcntl F_SETLK) on a file, taken through
// Node's built-in SQLite: `BEGIN EXCLUSIVE` on an empty database takes the
// file's exclusive lock and `COMMIT` drops it; nothing is ever written. The
// kernel releases the lock when the process dies, even by SIGKILL, and it is
// tied to the file, not to a namespace. SQLite also keeps two connections of
// one process from both holding it (its unix VFS tracks locks per inode), so
// concurrent operations inside one process exclude each other too.
//
// Waiting is our own asynchronous poll (busy timeout 0): SQLite's busy
// handler would sleep synchronously and block the event loop, deadlocking a
// process whose other operation holds the lock and awaits I/O.

import { DatabaseSync } from 'node:sqlite';
import { NetletError } from '../base/errors.ts';

export class LockTimeoutError extends NetletError {
  constructor(what: string, ms: number) {
    super('ERR_IPAM_LOCK_TIMEOUT', `could not lock ${what} within ${ms} ms (another run holds it)`);
  }
}

export type Unlock = () => Promise<void>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const isBusy = (err: unknown): boolean => /database is locked|SQLITE_BUSY/i.test((err as Error)?.message ?? '');

/**
 * Waits for the lock file `file` (created when missing; its directory must
 * exist), polling with jittered, growing pauses, and returns the function
 * that releases it.
 */
export async function acquireLock(file: string, timeoutMs: number): Promise<Unlock> {
  const db = new DatabaseSync(file, { timeout: 0 });
  const deadline = Date.now() + timeoutMs;
  let pause = 1;
  try {
    for (;;) {
      try {
        db.exec('BEGIN EXCLUSIVE');
        break;
      } catch (err) {
        if (!isBusy(err)) throw err;
      }
      if (Date.now() >= deadline) throw new LockTimeoutError(file, timeoutMs);
      await sleep(pause * (0.5 + Math.random()));
      pause = Math.min(pause * 2, 20);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return async () => {
    try {
      db.exec('COMMIT');
    } finally {
      db.close();
    }
  };
}

/** Runs `fn` holding the lock file `file`. */
export async function withLock<T>(file: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const unlock = await acquireLock(file, timeoutMs);
  try {
    return await fn();
  } finally {
    await unlock();
  }
}
