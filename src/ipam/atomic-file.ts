// Crash-safe replacement of a small file: write a temporary file, rename it
// over the old one. A reader, or a run after a SIGKILL at any point, sees
// either the old or the new content, never a torn one: rename(2) is atomic
// and the page cache outlives the killed process. No flush is needed for that.
//
// Power loss is different: a filesystem may commit the rename before the data
// and leave an empty or torn file behind. `durable` flushes the data
// (fdatasync) before the rename to rule that out, at the cost of a disk flush.
// The block claims file asks for it: losing a claim could let another node
// take the block. The node's allocation state (local-store.ts), written on
// every ADD and DEL, does not: after a power loss none of the pods it
// describes exists any more, and local-store.ts starts over from a torn file
// written before the current boot. Nor is the directory fsynced
// (docs/design/cni-speed.md#small-work-per-call).
//
// Callers hold the lock of the file (lock.ts), so one fixed temporary name
// suffices and a leftover from a killed run is simply overwritten.

import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';

// Synchronous calls: one small operation per process, where promise hops cost
// more than a blocked event loop (docs/design/cni-speed.md#small-work-per-call).

export function writeFileAtomic(file: string, data: string, opts: { durable?: boolean } = {}): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    if (opts.durable ?? true) fdatasyncSync(fd);
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

let bootTimeMs: number | undefined;

/** When this machine booted (btime of /proc/stat), in ms since the epoch. */
export function bootTime(): number {
  if (bootTimeMs === undefined) {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    bootTimeMs = m ? Number(m[1]) * 1000 : 0;
  }
  return bootTimeMs;
}

/** Whether `file` was last written before this boot (so a power loss may have torn it). */
export function writtenBeforeBoot(file: string): boolean {
  return statSync(file).mtimeMs < bootTime();
}
