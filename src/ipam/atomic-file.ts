// Crash-safe replacement of a small file: write a temporary file, flush it to
// disk (fdatasync), rename it over the old one. A reader, or a run after a
// SIGKILL at any point, sees either the old or the new content, never a torn
// one: rename(2) is atomic and the page cache outlives the killed process.
// The flush before the rename is for power loss: without it a filesystem may
// commit the rename before the data and leave an empty file behind.
//
// The directory is deliberately not fsynced after the rename. That would only
// make the rename itself survive a power loss; losing it brings back the
// previous state, which is harmless because a power loss also ends every pod
// that state could be missing (each new sandbox after the reboot is a new ADD,
// and leftovers in the state are reclaimed by DEL and GC). It would cost a
// second disk flush on every ADD.
//
// Callers hold the lock of the file (lock.ts), so one fixed temporary name
// suffices and a leftover from a killed run is simply overwritten.

import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

// Synchronous calls: the plugin does one small operation per process, and
// the few microseconds of a blocked event loop are cheaper than promise hops.

export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
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
