import t from 'tap';
import { KeptBytes } from '../../../src/dns/cache/kept-bytes.ts';

t.test('copies are exact, independent of their source, and share slabs only with each other', async (t) => {
  const kept = new KeptBytes(1024);
  const src = Buffer.from('answer-one');
  const a = kept.copy(src);
  src.fill(0);
  t.equal(a.toString(), 'answer-one', 'a later change to the source does not reach the copy');
  t.equal(a.length, 10);
  const b = kept.copy(Buffer.from('answer-two'));
  t.equal(b.buffer, a.buffer, 'small copies share one slab');
  t.equal(a.buffer.byteLength, 1024, 'the slab is the arena’s own, not Node’s shared pool');
  t.not(a.buffer, Buffer.from('x').buffer, 'not the pool short-lived Buffers come from');
  t.equal(a.toString() + b.toString(), 'answer-oneanswer-two', 'copies do not overlap');
});

t.test('a full slab is followed by a new one; large copies get their own allocation', async (t) => {
  const kept = new KeptBytes(256);
  const first = kept.copy(Buffer.alloc(60, 1));
  const copies = [first];
  for (let i = 0; i < 4; i++) copies.push(kept.copy(Buffer.alloc(60, i + 2)));
  t.not(copies[4].buffer, first.buffer, 'the fifth 60-byte copy does not fit a 256-byte slab');
  t.same([...new Set(copies.map((c) => c[0]))], [1, 2, 3, 4, 5], 'every copy keeps its own bytes');
  const big = kept.copy(Buffer.alloc(100, 9));
  t.equal(big.buffer.byteLength, 100, 'over a quarter of a slab: exact allocation');
});

t.test('startOver leaves the current slab to the copies already in it', async (t) => {
  const kept = new KeptBytes(1024);
  const a = kept.copy(Buffer.from('old'));
  kept.startOver();
  const b = kept.copy(Buffer.from('new'));
  t.not(b.buffer, a.buffer);
  t.equal(a.toString(), 'old');
});
