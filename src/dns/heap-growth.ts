import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's heap close to what is live, for a process (`netlet dns`) whose
 * data is loaded once and whose garbage is per query: the young generation
 * stays at its starting size and the old one grows only 20% past what the last
 * full GC kept, so a loading peak is not what RSS keeps. Set here rather than
 * as Node flags so they hold however netlet is started
 * (docs/design/dns-memory.md#heap-growth).
 */
export function keepHeapCloseToLive(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=20');
  // Node 20's 8 KiB Buffer pool slabs, not Node 24's 64 KiB: a slab that outlived
  // two scavenges stays until the next full GC (docs/design/dns-memory.md#buffer-pool-slabs).
  Buffer.poolSize = 8 * 1024;
}
