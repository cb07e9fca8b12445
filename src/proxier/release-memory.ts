// Gives the memory of a full sync's garbage back to the system. A full sync
// at 10k services allocates a few hundred MB of short-lived text (rendered
// rules, restore inputs, iptables-save output) in a burst, and V8 keeps the
// pages it grew into: measured right after the first sync of an agent at
// 10k services, 396 MB RSS of which ~230 MB were garbage or free pages. Its
// memory reducer gives them back only after a quiet spell that a busy node
// may not have. One "last resort" collection (compacting, returning free
// pages; a regular major GC took RSS only from 407 to 382 MB) took the same
// agent to 162 MB, for a pause of ~0.2-0.6 s (shared 2-core machine) right
// after a sync that itself took seconds.
import { getHeapStatistics } from 'node:v8';
import { collectAndReturnMemory } from '../base/return-memory.ts';

/** The heap's committed size after the last collection made here. */
let committedAfter = 0;

/** Below this much growth since the last time, the pause is not worth it (small clusters, IPVS's 30 s full syncs). */
export const MIN_GROWTH_BYTES = 32 * 1024 * 1024;

/**
 * Collects all garbage and returns free pages if the V8 heap grew by
 * `minGrowth` bytes since the last time; returns the pause in ms and the
 * bytes given back, or undefined when it did nothing.
 */
export function releaseFreedMemory(minGrowth = MIN_GROWTH_BYTES): { ms: number; releasedBytes: number } | undefined {
  const before = getHeapStatistics().total_heap_size;
  if (before - committedAfter < minGrowth) return undefined;
  const t0 = performance.now();
  collectAndReturnMemory();
  const ms = performance.now() - t0;
  committedAfter = getHeapStatistics().total_heap_size;
  return { ms, releasedBytes: before - committedAfter };
}
