import t from 'tap';
import { borrowedPrefixes } from '../../../src/bgp/borrowed-addresses.ts';
import { pod } from '../../helpers/objects.ts';
import { block } from '../routes/fakes.ts';

const blocks = [block('10.244.0.0/26', 'a'), block('10.244.0.64/26', 'b'), block('fd00:244::/122', 'b')];

t.test('a pod of this node in another node\'s block gets its /32 (and /128); its own block\'s pods do not', async (t) => {
  const pods = [
    pod('x', 'own', '10.244.0.5', { nodeName: 'a' }),
    pod('x', 'borrowed', '10.244.0.70', { nodeName: 'a', podIPs: ['10.244.0.70', 'fd00:244::7'] }),
    pod('x', 'on-b', '10.244.0.71', { nodeName: 'b' }),
    pod('x', 'outside-every-block', '10.99.0.1', { nodeName: 'a' }),
    pod('x', 'host', '10.244.0.72', { nodeName: 'a', hostNetwork: true }),
    pod('x', 'done', '10.244.0.73', { nodeName: 'a', phase: 'Succeeded' }),
  ];
  t.same(borrowedPrefixes('a', pods, blocks), ['10.244.0.70/32', 'fd00:244::7/128']);
  t.same(borrowedPrefixes('b', pods, blocks), [], 'b holds its block\'s addresses: the aggregate covers them');
});

t.test('no other node\'s block, nothing borrowed', async (t) => {
  t.same(borrowedPrefixes('a', [pod('x', 'p', '10.244.0.70', { nodeName: 'a' })], [block('10.244.0.0/26', 'a')]), []);
});
