// What a restart reads back of the table (fixtures/table-v4.json) is written
// as render-plan.ts writes elements, so wanted elements are recognised and
// only the others removed.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { elementsOf } from '../../../src/nftables/adopt.ts';

const json = readFileSync(new URL('./fixtures/table-v4.json', import.meta.url), 'utf8');

t.test('elements read back in nft syntax', async (t) => {
  const held = elementsOf(json, new Set(['service-ips', 'endpoints-tcp-2', 'firewall-allow', 'hairpin', 'service-nodeports']));
  const text = (set: string) => held.get(set)!.map((e) => (e.value ? `${e.key} : ${e.value}` : e.key));
  t.ok(text('service-ips').includes('10.96.0.10 . tcp . 80 : goto pick-tcp-2'));
  t.ok(text('endpoints-tcp-2').includes('10.96.0.10 . 80 . 1 : 10.244.2.2 . 8080'));
  t.ok(text('firewall-allow').includes('192.0.2.200 . tcp . 80 . 10.0.0.0/8'));
  t.ok(text('hairpin').includes('10.244.1.2 . 10.244.1.2'));
  t.ok(text('service-nodeports').includes('tcp . 30084 : goto ext_default_lp_http_tcp'));
  t.notOk(held.has('masq-all'), 'only the sets asked for');
});
