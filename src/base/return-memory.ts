// Gives memory back to the system after a burst of allocation (loading a
// cluster, a full sync at 10k services), for the long-running commands.
//
// - V8 keeps the old-space pages a burst grew into, mapped and resident in a
//   pool for reuse; only a "last resort" collection (compacting, returning
//   free pages) gives them back — a regular major GC does not.
// - glibc keeps the freed malloc memory of the burst (Buffers of LIST
//   responses and iptables-save output, zlib, the YAML of a manifest folder);
//   malloc_trim(3) returns it (native/malloc-trim.c; netlet dns at 10k
//   services / 50k pods: RSS 122 → 103 MB by that step alone).
//
// The collection stops the process for one full GC (~0.1–0.6 s at those
// sizes), so callers run it once after such a burst, never per change.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { findAddon } from './native-addon.ts';

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gc: Gc | undefined;
let mallocTrim: { trim(): boolean } | null | undefined;

function trimMalloc(): boolean {
  if (mallocTrim === undefined) mallocTrim = findAddon<{ trim(): boolean }>('netlet_malloc_trim') ?? null;
  return mallocTrim?.trim() ?? false;
}

/**
 * Returns glibc's free memory every `everyMs`, while serving. Unlike the
 * collection above this stops nothing for long: malloc_trim(3) walks the
 * free lists of two arenas (MALLOC_ARENA_MAX, bin/netlet.js): 0.2–1.9 ms
 * per call in `netlet dns` under dnsperf. What it gives back is what serving freed: the 64 KiB
 * slabs of Node's Buffer pool and the compilers' zones. `netlet dns` at
 * 10k services / 50k pods after dnsperf runs: [heap] 18 → 13 MB.
 */
export function trimMallocEvery(everyMs: number): () => void {
  const timer = setInterval(trimMalloc, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function collectAndReturnMemory(): void {
  if (!gc) {
    // --expose-gc is read when a context is made: only this one context gets
    // gc(); the flag goes back off at once so later contexts stay without it.
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as Gc;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  trimMalloc();
}
