// netlet's elements as nf_tables bytes, against what `nft --debug=netlink
// add element …` printed for the same element on this machine (nft 1.0.6):
// nft prints each 32-bit register word as a host-order number, so the
// fixtures are read back word by word.
import t from 'tap';
import { endianness } from 'node:os';
import { elementBytes, shapeOf } from '../../../src/nftables/element-bytes.ts';
import { VERDICT } from '../../../src/netlink/nftables-codec.ts';

/** "0100600a 00000006" as nft --debug=netlink prints it → the bytes in memory. */
const words = (s: string): Buffer =>
  Buffer.concat(
    s.split(/\s+/).filter(Boolean).map((w) => {
      const b = Buffer.alloc(4);
      if (endianness() === 'LE') b.writeUInt32LE(parseInt(w, 16) >>> 0, 0);
      else b.writeUInt32BE(parseInt(w, 16) >>> 0, 0);
      return b;
    }),
  );

const rows: Array<{ name: string; set: string; key: string; value: string; nftKey: string; nftData?: string; verdict?: { code: number; chain?: string } }> = [
  { name: 'a ClusterIP to its pick chain', set: 'service-ips', key: '10.96.0.1 . tcp . 80', value: 'goto pick-tcp-3', nftKey: '0100600a 00000006 00005000', verdict: { code: VERDICT.goto, chain: 'pick-tcp-3' } },
  { name: 'a NodePort', set: 'service-nodeports', key: 'udp . 30053', value: 'goto c', nftKey: '00000011 00006575', verdict: { code: VERDICT.goto, chain: 'c' } },
  { name: 'a no-endpoint drop', set: 'no-endpoint-services', key: '10.96.0.2 . udp . 53', value: 'drop', nftKey: '0200600a 00000011 00003500', verdict: { code: VERDICT.drop } },
  { name: 'an endpoint (numgen index in host order)', set: 'endpoints-tcp-3', key: '10.200.0.1 . 80 . 0', value: '10.1.1.1 . 80', nftKey: '0100c80a 00005000 00000000', nftData: '0101010a 00005000' },
  { name: 'a NodePort endpoint', set: 'nodeport-endpoints-tcp-3', key: '30080 . 2', value: '10.1.2.3 . 8080', nftKey: '00008075 00000002', nftData: '0302010a 0000901f' },
  { name: 'a hairpin element', set: 'hairpin', key: '10.244.1.2 . 10.244.1.2', value: '', nftKey: '0201f40a 0201f40a' },
  { name: 'the digest', set: 'sync-digest', key: 'fd00::1:2', value: '', nftKey: '000000fd 00000000 00000000 02000100' },
  {
    name: 'an IPv6 endpoint',
    set: 'endpoints-udp-2',
    key: 'fd00::a . 53 . 1',
    value: 'fd00:10:244::5 . 5353',
    nftKey: '000000fd 00000000 00000000 0a000000 00003500 00000001',
    nftData: '100000fd 00004402 00000000 05000000 0000e914',
  },
];

for (const r of rows) {
  t.test(r.name, async (t) => {
    const b = elementBytes({ set: r.set, key: r.key, value: r.value });
    t.ok(b);
    t.same(b!.key, words(r.nftKey));
    if (r.nftData) t.same(b!.data, words(r.nftData));
    else if (r.verdict) t.same(b!.data, r.verdict);
    else t.equal(b!.data, undefined);
  });
}

t.test('interval sets are left to nft; an element that does not fit its set is an error naming it', async (t) => {
  t.equal(shapeOf('firewall-allow'), undefined);
  t.equal(elementBytes({ set: 'firewall-allow', key: '10.0.0.1 . tcp . 80 . 10.0.0.0/8', value: '' }), undefined);
  t.throws(() => elementBytes({ set: 'service-ips', key: '10.96.0.1 . icmp . 80', value: 'drop' }), /not a protocol: icmp/);
  t.throws(() => elementBytes({ set: 'service-ips', key: '10.96.0.1 . tcp . 80', value: 'return' }), /not a verdict: return/);
  t.throws(() => elementBytes({ set: 'endpoints-tcp-1', key: '10.96.0.1 . 80', value: '10.1.1.1 . 80' }), /expected 3 parts/);
  t.throws(() => elementBytes({ set: 'hairpin', key: '10.1.1.1 . 10.1.1.1', value: 'drop' }), /is a set/);
});
