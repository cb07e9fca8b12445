// The nf_tables netlink element writer against the real kernel: what it
// writes is what `nft list` then shows, a map value replaced in one batch, a
// refused batch changes nothing, and IPv6 elements.

import t from 'tap';
import { Lab, rootSkip } from '../../helpers/netns.ts';
import { NetlinkElementWriter } from '../../../src/nftables/element-writer.ts';
import { NftError } from '../../../src/nftables/nft.ts';
import type { Element } from '../../../src/nftables/render-plan.ts';

const TABLE_V4 = `
add table ip netlet
add chain ip netlet pick-tcp-2
add chain ip netlet reject-packet
add map ip netlet service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }
add map ip netlet service-nodeports { type inet_proto . inet_service : verdict; }
add map ip netlet endpoints-tcp-2 { typeof ip daddr . tcp dport . numgen random mod 1 : ip daddr . tcp dport; }
add map ip netlet nodeport-endpoints-tcp-2 { typeof tcp dport . numgen random mod 1 : ip daddr . tcp dport; }
add set ip netlet hairpin { type ipv4_addr . ipv4_addr; }
add set ip netlet sync-digest { type ipv6_addr; }
add element ip netlet sync-digest { fd00::1 }
`;

const el = (set: string, key: string, value = ''): Element => ({ set, key, value });
const oneLine = (s: string) => s.replace(/\s+/g, ' ');

t.test('elements over nf_tables netlink, checked with nft list', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('nw');
  t.teardown(() => lab.cleanup());
  const ns = await lab.netns('node');
  await ns.exec('nft', ['-f', '-'], { input: TABLE_V4 });
  const writer = new NetlinkElementWriter(4, `/run/netns/${ns.name}`);
  t.teardown(() => writer.close());
  const list = async (set: string, kind = 'map') => oneLine(await ns.exec('nft', ['list', kind, 'ip', 'netlet', set]));
  const apply = async (c: Parameters<NetlinkElementWriter['encode']>[0]) => writer.apply(writer.encode(c)!);

  await apply({
    deletes: [],
    flush: [],
    adds: [
      el('service-ips', '10.96.0.10 . tcp . 80', 'goto pick-tcp-2'),
      el('service-ips', '10.96.0.11 . udp . 53', 'drop'),
      el('service-nodeports', 'tcp . 30080', 'goto reject-packet'),
      el('endpoints-tcp-2', '10.96.0.10 . 80 . 0', '10.244.1.2 . 8080'),
      el('endpoints-tcp-2', '10.96.0.10 . 80 . 1', '10.244.2.2 . 8080'),
      el('nodeport-endpoints-tcp-2', '30080 . 1', '10.244.2.2 . 8080'),
      el('hairpin', '10.244.1.2 . 10.244.1.2'),
    ],
  });
  t.match(await list('service-ips'), /10\.96\.0\.10 \. tcp \. 80 : goto pick-tcp-2/);
  t.match(await list('service-ips'), /10\.96\.0\.11 \. udp \. 53 : drop/);
  t.match(await list('service-nodeports'), /tcp \. 30080 : goto reject-packet/);
  t.match(await list('endpoints-tcp-2'), /10\.96\.0\.10 \. 80 \. 0 : 10\.244\.1\.2 \. 8080, 10\.96\.0\.10 \. 80 \. 1 : 10\.244\.2\.2 \. 8080/);
  t.match(await list('nodeport-endpoints-tcp-2'), /30080 \. 1 : 10\.244\.2\.2 \. 8080/);
  t.match(await list('hairpin', 'set'), /10\.244\.1\.2 \. 10\.244\.1\.2/);

  // An endpoint replaced (a map value cannot change in place: a delete and an add in one batch) and the digest swapped.
  await apply({
    deletes: [el('endpoints-tcp-2', '10.96.0.10 . 80 . 1', '10.244.2.2 . 8080')],
    flush: ['sync-digest'],
    adds: [el('endpoints-tcp-2', '10.96.0.10 . 80 . 1', '10.244.3.3 . 8080'), el('sync-digest', 'fd00::2')],
  });
  t.match(await list('endpoints-tcp-2'), /10\.96\.0\.10 \. 80 \. 1 : 10\.244\.3\.3 \. 8080/);
  t.notMatch(await list('endpoints-tcp-2'), /10\.244\.2\.2/);
  t.match(await list('sync-digest', 'set'), /elements = \{ fd00::2 \}/);

  // A batch the kernel refuses (a delete of an element that is not there) changes nothing, the add before it included.
  const before = await list('service-ips');
  const err = await apply({ deletes: [el('service-ips', '10.96.0.99 . tcp . 80', 'drop')], flush: [], adds: [el('service-ips', '10.96.0.12 . tcp . 80', 'drop')] }).catch((e) => e);
  t.ok(err instanceof NftError, 'an NftError');
  t.match(err.message, /ENOENT/);
  t.equal(await list('service-ips'), before, 'nothing of the refused batch landed');

  // A map element added again with another value (two writers of one key) is refused by name too.
  const clash = await apply({ deletes: [], flush: [], adds: [el('service-ips', '10.96.0.10 . tcp . 80', 'drop')] }).catch((e) => e);
  t.match(clash.message, /EEXIST|EBUSY/);

  // More elements than one message holds: cut into several, still one batch.
  const many = Array.from({ length: 1000 }, (_, i) => el('service-ips', `10.97.${i >> 8}.${i & 255} . tcp . 443`, 'drop'));
  t.equal(writer.encode({ deletes: [], flush: [], adds: many })!.length, 3);
  await apply({ deletes: [], flush: [], adds: many });
  t.equal((await list('service-ips')).match(/ 443 : drop/g)?.length, 1000);
});

t.test('IPv6 elements', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('nw6');
  t.teardown(() => lab.cleanup());
  const ns = await lab.netns('node');
  await ns.exec('nft', ['-f', '-'], {
    input: `add table ip6 netlet
add chain ip6 netlet pick-udp-1
add map ip6 netlet service-ips { type ipv6_addr . inet_proto . inet_service : verdict; }
add map ip6 netlet endpoints-udp-1 { typeof ip6 daddr . udp dport . numgen random mod 1 : ip6 daddr . udp dport; }
`,
  });
  const writer = new NetlinkElementWriter(6, `/run/netns/${ns.name}`);
  t.teardown(() => writer.close());
  await writer.apply(writer.encode({ deletes: [], flush: [], adds: [el('service-ips', 'fd00:96::a . udp . 53', 'goto pick-udp-1'), el('endpoints-udp-1', 'fd00:96::a . 53 . 0', 'fd00:10:244::5 . 5353')] })!);
  const listing = oneLine(await ns.exec('nft', ['list', 'table', 'ip6', 'netlet']));
  t.match(listing, /fd00:96::a \. udp \. 53 : goto pick-udp-1/);
  t.match(listing, /fd00:96::a \. 53 \. 0 : fd00:10:244::5 \. 5353/);
});
