// rewrite edns0 on a decoded query: options kept, changed or added as
// set/replace/append say; the subnet option cut from the client's address.
import t from 'tap';
import type { Edns0Rewrite } from '../../../src/dns/corefile/front-config.ts';
import type { WireMessage } from '../../../src/dns/plugins/message.ts';
import { applyEdns0 } from '../../../src/dns/plugins/rewrite-edns0.ts';

const rule = (over: Partial<Edns0Rewrite>): Edns0Rewrite => ({ option: 'local', action: 'set', code: 0xffee, data: '', v4Bits: 24, v6Bits: 56, ...over });

function message(options: string | null): WireMessage {
  const additional = options === null ? [] : [{ name: '.', type: 41, class: 1232, ttl: 0, rdata: [Buffer.from(options, 'hex')] }];
  return { id: 1, flags: 0x0100, question: [{ name: 'a.example.', type: 1, class: 1 }], answer: [], authority: [], additional };
}
const optHex = (m: WireMessage) => Buffer.concat(m.additional[0].rdata as Buffer[]).toString('hex');

t.test('set, replace, append on an OPT that has options', async (t) => {
  const m = message('ffee0001aa' + '000a0000');
  t.ok(applyEdns0(m, [rule({ data: 'bbcc' }), rule({ action: 'replace', code: 0xfff0, data: '01' }), rule({ action: 'append', code: 0xffee, data: '02' })], null));
  t.equal(optHex(m), 'ffee0002bbcc' + '000a0000' + 'ffee000102', 'set changed it in place, other options kept, replace of an absent one did nothing, append added a second');
  t.equal(m.additional[0].class, 1232, "the client's payload size kept");
});

t.test('subnet from IPv6 and IPv4-mapped clients; none without a client address', async (t) => {
  const v6 = message('');
  t.ok(applyEdns0(v6, [rule({ option: 'subnet', code: 8 })], '2001:db8:abcd:12ff::1'));
  t.equal(optHex(v6), '0008000b' + '00023800' + '20010db8abcd12', 'family 2, /56, seven bytes');
  const mapped = message('');
  applyEdns0(mapped, [rule({ option: 'subnet', code: 8, v4Bits: 20 })], '::ffff:10.1.255.9');
  t.equal(optHex(mapped), '00080007' + '00011400' + '0a01f0', 'family 1, /20, the last bits zeroed');
  const none = message(null);
  t.notOk(applyEdns0(none, [rule({ option: 'subnet', code: 8 })], null), 'no client address: nothing changed');
  t.equal(none.additional.length, 0, 'and no OPT added');
});

t.test('a query without OPT gets one; a malformed OPT is left alone', async (t) => {
  const m = message(null);
  t.ok(applyEdns0(m, [rule({ option: 'nsid', code: 3 })], null));
  t.strictSame([m.additional[0].type, m.additional[0].class, optHex(m)], [41, 4096, '00030000']);
  const bad = message('ffee00ff01');
  t.notOk(applyEdns0(bad, [rule({ data: '01' })], null), 'an option longer than the OPT: unchanged');
});
