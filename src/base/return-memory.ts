// Gives memory back to the system after a burst of allocation (loading a
// cluster, a full sync), for the long-running commands: a compacting major GC
// returns V8's pooled pages, malloc_trim(3) glibc's free memory. It stops the
// process for one full GC, so callers run it once after a burst, never per
// change (docs/design/agent-memory.md#returning-memory-after-a-burst).
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
 * Returns glibc's free memory every `everyMs`, while serving; a call is cheap,
 * unlike the collection (docs/design/dns-memory.md#returning-memory).
 */
export function trimMallocEvery(everyMs: number): () => void {
  const timer = setInterval(trimMalloc, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function collectAndReturnMemory(): void {
  gc ??= scopedExposedGc();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  trimMalloc();
}

/** V8's gc(), from one context made with --expose-gc on for that moment only, so no other context gets it (docs/design/agent-memory.md#returning-memory-after-a-burst). */
function scopedExposedGc(): Gc {
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as Gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
