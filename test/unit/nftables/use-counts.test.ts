// How many plans use each hairpin address: counted up, changed down to gone, first use first.
import t from 'tap';
import { UseCounts } from '../../../src/nftables/use-counts.ts';

t.test('keys used once and more than once are counted, and listed in the order of their first use', async (t) => {
  const c = new UseCounts();
  for (const k of ['b', 'a', 'b', 'c', 'b']) c.add(k);
  t.same([...c.keys()], ['b', 'a', 'c']);
  t.equal(c.size, 3);
  t.same(['a', 'b', 'c', 'd'].map((k) => c.count(k)), [1, 3, 1, 0]);
});

t.test('a change up or down keeps the count; at zero the key is gone and a new use comes last', async (t) => {
  const c = new UseCounts();
  for (const k of ['a', 'b', 'b']) c.add(k);
  c.change('b', -1);
  t.equal(c.count('b'), 1);
  c.change('b', -1);
  t.equal(c.has('b'), false);
  t.equal(c.count('b'), 0);
  c.change('a', 2);
  t.equal(c.count('a'), 3);
  c.change('a', -3);
  t.equal(c.size, 0);
  c.change('b', 1);
  c.add('a');
  t.same([...c.keys()], ['b', 'a']);
  t.same([c.count('a'), c.count('b')], [1, 1]);
});
