import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at its starting size (1 MB semi-spaces) for
 * the rest of the process. Loading 10k services and 50k pods lets it grow
 * to 2 × 64 MB, which V8 keeps committed afterwards: `netlet dns` measured
 * ~300 MB RSS after load that way and ~250 MB with this, at the same query
 * rate (bench/dnsperf.ts, shared machine). A DNS server's garbage is
 * per-query and dies young, so small semi-spaces cost only more frequent,
 * cheap scavenges.
 *
 * A flag and not `--max-semi-space-size`: V8 reads that one only when the
 * heap is set up, before any of our code runs, while the growth factor is
 * read each time the new space would grow.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
