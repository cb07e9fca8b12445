// Gives a burst's garbage back to the system with one compacting GC, only
// when the heap grew enough to be worth the pause (docs/design/agent-memory.md#returning-memory-after-a-burst).
import { getHeapStatistics } from 'node:v8';
import { collectAndReturnMemory } from '../base/return-memory.ts';

/** The heap's committed size after the last collection made here. */
let committedAfter = 0;

/** Below this much growth since the last time, the pause is not worth it (small clusters, IPVS's 30 s full syncs). */
const MIN_GROWTH_BYTES = 32 * 1024 * 1024;

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

/** The load's garbage (LIST pages, their parsed JSON), before the first sync adds its own. */
export function releaseLoadGarbage(): void {
  releaseFreedMemory();
}

/** The garbage of building every plan: a lower bar, so the first sync starts from a compact heap. */
export function releasePlanBuildGarbage(): void {
  releaseFreedMemory(MIN_GROWTH_BYTES / 4);
}

/** A full sync's garbage (rendered rules, restore inputs, iptables-save output). */
export function releaseFullSyncGarbage(): { ms: number; releasedBytes: number } | undefined {
  return releaseFreedMemory();
}
