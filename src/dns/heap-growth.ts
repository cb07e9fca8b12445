import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's heap close to what is live, for a process (`netlet dns`) whose
 * data is loaded once and whose garbage is per query. Measured at 10k
 * services and 50k pods (bench/dnsperf.ts, shared machine), same query rate:
 *
 * - The young generation stays at its starting size (1 MB semi-spaces):
 *   loading lets it grow to 2 × 64 MB, which V8 keeps committed afterwards
 *   (RSS after load ~300 → ~250 MB before the other changes).
 * - The old generation may grow 20% over what the last full GC kept
 *   instead of V8's default (up to 2× and more while allocation is fast):
 *   pages freed after such a peak stay resident in V8's pool, so the peak
 *   is what RSS keeps (after load ~250 → ~176 MB peak; after a dnsperf
 *   run ~200 → ~170 MB).
 *
 * Flags set here and not `--max-semi-space-size`: V8 reads that one only
 * when the heap is set up, before any of our code runs, while these two are
 * read each time it sizes a space. bin/netlet.js also starts `dns` with
 * --max-semi-space-size=4, which caps the young generation at 2 × 4 MB;
 * this keeps it at 1 MB however netlet is started (e.g. `node
 * dist/netlet.mjs dns`). With both, at 10k services / 50k pods (bundle):
 * RSS after load ~127 MB, peak ~153 MB; without the growth limit the peak
 * was ~231 MB (a container limit such as CoreDNS's default 170Mi would
 * have been hit while loading), for ~20% less CPU to load.
 */
export function keepHeapCloseToLive(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=20');
  // Node 24's pool for small Buffers hands out 64 KiB slabs (8 KiB up to
  // Node 20). Each query's Buffers come from it, and a slab whose
  // ArrayBuffer outlived two scavenges stays malloc'd until the next full
  // GC. 8 KiB slabs, RSS after dnsperf runs at 10k services / 50k pods,
  // seven alternating pairs: mean 118.5 MB (113–122) against 124.4 MB
  // (118–130) with 64 KiB, and no change in QPS the runs could show.
  Buffer.poolSize = 8 * 1024;
}
