// releaseFreedMemory: a compacting collection only after the heap grew by
// the threshold since the last one, and the committed heap shrinks by it.
import t from 'tap';
import { getHeapStatistics } from 'node:v8';
import { releaseFreedMemory } from '../../../src/proxier/release-memory.ts';

/** ~80 MB of strings kept alive until the returned function drops them (like a full sync's text). */
function burst(): () => void {
  let keep: string[] | undefined = [];
  for (let i = 0; i < 400_000; i++) keep.push(`-A KUBE-SEP-${i} -m comment --comment "ns/svc${i}:http" -j DNAT --to-destination 10.0.${i & 255}.1:80 `.repeat(2));
  return () => {
    keep = undefined;
  };
}

t.test('after a burst: one collection, committed heap back down, then nothing until it grows again', async (t) => {
  const drop = burst();
  const grown = getHeapStatistics().total_heap_size;
  drop();
  const first = releaseFreedMemory();
  t.ok(first, 'collected after the heap grew');
  t.ok(first!.releasedBytes > 32 * 2 ** 20, `gave back ${Math.round(first!.releasedBytes / 2 ** 20)} MB`);
  t.ok(getHeapStatistics().total_heap_size < grown - 32 * 2 ** 20, 'the committed heap is smaller than at the peak');
  t.equal(releaseFreedMemory(), undefined, 'no growth since: no pause');
  const again = burst();
  again();
  t.ok(releaseFreedMemory(), 'grew again: collects again');
});

t.test('growth below the threshold does nothing', async (t) => {
  t.equal(releaseFreedMemory(Number.MAX_SAFE_INTEGER), undefined);
});
