// The sync digest: order-independent, undone by remove(), and telling apart elements whose strings only split differently.
import t from 'tap';
import { ElementDigest } from '../../../src/nftables/element-digest.ts';

const digestOf = (elements: [string, string, string][]) => {
  const d = new ElementDigest();
  for (const [set, key, value] of elements) d.addParts(set, key, value);
  return d.address();
};

t.test('the same elements in any order give one digest; a removed element is undone', async (t) => {
  const a: [string, string, string] = ['service-ips', '10.96.0.1 . tcp . 80', 'goto pick-tcp-3'];
  const b: [string, string, string] = ['endpoints-tcp-3', '10.96.0.1 . tcp . 80 . 0', '10.128.0.1 . 8080'];
  t.equal(digestOf([a, b]), digestOf([b, a]));
  const d = new ElementDigest();
  d.addParts(...a);
  d.addParts(...b);
  d.remove({ set: b[0], key: b[1], value: b[2] });
  t.equal(d.address(), digestOf([a]));
  t.match(d.address(), /^fd00:2:0:1:/);
});

t.test('strings split differently, or one NUL character longer, give different digests', async (t) => {
  t.not(digestOf([['s', 'ab', 'c']]), digestOf([['s', 'a', 'bc']]));
  t.not(digestOf([['s', 'abc', '']]), digestOf([['s', 'ab', 'c']]));
  t.not(digestOf([['s', 'a', '']]), digestOf([['s', 'a\0', '']]));
  t.not(digestOf([['s', 'ab', '']]), digestOf([['s', 'ba', '']]));
});
