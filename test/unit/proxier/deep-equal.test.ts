import t from 'tap';
import { deepEqual } from '../../../src/proxier/deep-equal.ts';

const rows: { name: string; a: unknown; b: unknown; equal: boolean }[] = [
  { name: 'same primitives', a: 1, b: 1, equal: true },
  { name: 'different primitives', a: 'a', b: 'b', equal: false },
  { name: 'nested equal', a: { x: [1, { y: 'z' }] }, b: { x: [1, { y: 'z' }] }, equal: true },
  { name: 'nested differ deep', a: { x: [1, { y: 'z' }] }, b: { x: [1, { y: 'w' }] }, equal: false },
  { name: 'array length', a: [1, 2], b: [1, 2, 3], equal: false },
  { name: 'array vs object', a: [], b: {}, equal: false },
  { name: 'object vs array', a: {}, b: [], equal: false },
  { name: 'extra key', a: { x: 1 }, b: { x: 1, y: 2 }, equal: false },
  { name: 'absent vs undefined key counts as a change (conservative)', a: { x: 1 }, b: { x: 1, y: undefined }, equal: false },
  { name: 'null vs object', a: null, b: {}, equal: false },
  { name: 'key order does not matter', a: { x: 1, y: 2 }, b: { y: 2, x: 1 }, equal: true },
];
for (const row of rows) {
  t.test(row.name, async (t) => {
    t.equal(deepEqual(row.a, row.b), row.equal);
    t.equal(deepEqual(row.b, row.a), row.equal, 'symmetric');
  });
}
