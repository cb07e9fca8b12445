// Crash-safe replacement of a small file: write a temporary file, fsync it,
// rename it over the old one, fsync the directory. A reader (or a run after a
// SIGKILL at any point) sees either the old or the new content, never a torn
// one. Callers hold the lock of the file (lock.ts), so one fixed temporary
// name suffices and a leftover from a killed run is simply overwritten.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

// Synchronous calls: the plugin does one small operation per process, and
// the few microseconds of a blocked event loop are cheaper than promise hops.

export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dirFd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** The file's text, or undefined when it does not exist. */
export function readFileIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
