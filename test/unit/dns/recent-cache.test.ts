import t from 'tap';
import { RecentCache } from '../../../src/dns/zone/recent-cache.ts';

t.test('keeps the last N values set, the oldest overwritten first', async (t) => {
  const c = new RecentCache<number>(3);
  for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) c.set(k, i);
  t.equal(c.get('a'), undefined, 'the oldest went first');
  t.strictSame(['b', 'c', 'd'].map((k) => c.get(k)), [1, 2, 3]);
  t.equal(c.size, 3);
});

t.test('setting a key again replaces its value in its slot', async (t) => {
  const c = new RecentCache<string>(2);
  c.set('a', 'old');
  c.set('a', 'new');
  c.set('b', 'b');
  t.equal(c.get('a'), 'new', 'still there: the second set did not take another slot');
  t.equal(c.size, 2);
});

t.test('delete frees the slot; a size below 1 still keeps one', async (t) => {
  const c = new RecentCache<number>(2);
  c.set('a', 1);
  c.delete('a');
  c.delete('never set');
  t.equal(c.get('a'), undefined);
  t.equal(c.size, 0);
  const one = new RecentCache<number>(0);
  one.set('x', 1);
  t.equal(one.get('x'), 1);
});
