// Wire-level behaviour: case echo, EDNS0, truncation, malformed queries,
// SERVFAIL before sync, forwarding, and encoded answers kept in step with
// the store.
import t from 'tap';
import { ask, decodeReply, inProcessDns, query, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { endpoint, endpointSlice, pod, service } from '../../helpers/objects.ts';
import type { Forwarder } from '../../../src/dns/forward/forwarder.ts';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { dnsConfig } from './dns-helpers.ts';

const Z = 'svc.cluster.local.';

async function raw(dns: ClusterDns, packet: Buffer, proto: 'udp' | 'tcp' = 'udp'): Promise<Buffer | null> {
  return dns.handler.handle(packet, proto);
}

t.test('the reply echoes the query case, also from the encoded-answer cache', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()));
  const first = await ask(dns, `svc1.testns.${Z}`, 'A');
  t.equal(first.question, `svc1.testns.${Z} A`);
  const mixed = await ask(dns, `SvC1.TestNS.svc.Cluster.Local.`, 'A', { id: 777 });
  t.equal(mixed.id, 777, 'ID patched in');
  t.equal(mixed.question, 'SvC1.TestNS.svc.Cluster.Local. A');
  t.strictSame(mixed.answer, ['SvC1.TestNS.svc.Cluster.Local. 5 IN A 10.0.0.1']);
  t.ok(dns.handler.answers.hits >= 1, 'second answer came from the cache');
  const nx = await ask(dns, `NoPe.TestNS.${Z}`, 'A');
  t.equal(nx.rcode, 'NXDOMAIN');
  t.equal(nx.question, `NoPe.TestNS.${Z} A`);
});

t.test('RD is copied, RA not set (CoreDNS: RA only on forwarded answers)', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()));
  t.ok((await ask(dns, `svc1.testns.${Z}`, 'A', { rd: true })).flags.rd);
  const r = await ask(dns, `svc1.testns.${Z}`, 'A', { rd: false });
  t.notOk(r.flags.rd);
  t.notOk(r.flags.ra);
});

t.test('EDNS0: an OPT comes back only when the query had one; BADVERS for version 1', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()));
  t.equal((await ask(dns, `svc1.testns.${Z}`, 'A', { udpSize: 4096 })).optSize, 4096, 'the client\'s own size echoed, as CoreDNS');
  t.equal((await ask(dns, `svc1.testns.${Z}`, 'A')).optSize, 0);
  const bad = await ask(dns, `svc1.testns.${Z}`, 'A', { udpSize: 4096, ednsVersion: 1 });
  t.equal(bad.rcode, 'BADVERS');
  t.strictSame(bad.answer, []);
});

t.test('UDP answers that do not fit are cut at a record boundary with TC; TCP gets all', async (t) => {
  const objects = [
    ...clusterObjects(),
    service('testns', 'big', { clusterIPs: [], headless: true }),
    endpointSlice('testns', 'big', 'big-a', Array.from({ length: 100 }, (_, i) => endpoint(`10.1.${i >> 8}.${i & 255}`))),
  ];
  const dns = inProcessDns(syncedStore(objects));
  const classic = decodeReply((await raw(dns, query(`big.testns.${Z}`, 'A')))!);
  t.ok(classic.flags.tc, 'TC without EDNS (512 bytes)');
  t.ok(classic.answer.length > 0 && classic.answer.length < 100, `partial answer (${classic.answer.length} records)`);
  const udp = (await raw(dns, query(`big.testns.${Z}`, 'A', { udpSize: 1232 })))!;
  t.ok(udp.length <= 1232, 'fits the advertised size');
  const ud = decodeReply(udp);
  t.ok(ud.flags.tc);
  t.equal(ud.optSize, 1232, 'OPT kept on a truncated reply');
  const big = decodeReply((await raw(dns, query(`big.testns.${Z}`, 'A', { udpSize: 65000 })))!);
  t.notOk(big.flags.tc, 'a large buffer size is honoured');
  t.equal(big.answer.length, 100);
  const tcp = decodeReply((await raw(dns, query(`big.testns.${Z}`, 'A'), 'tcp'))!);
  t.notOk(tcp.flags.tc);
  t.equal(tcp.answer.length, 100);
});

t.test('name compression keeps replies small', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()));
  const reply = (await raw(dns, query(`_http._tcp.hdls1.testns.${Z}`, 'SRV')))!;
  // 5 SRV + 6 address records with uncompressed names would be far above 600 bytes.
  t.ok(reply.length < 600, `${reply.length} bytes`);
});

t.test('malformed and unusual packets', async (t) => {
  const dns = inProcessDns(syncedStore(clusterObjects()));
  t.equal(await raw(dns, Buffer.from([1, 2, 3])), null, 'shorter than a header: dropped');
  const response = query(`svc1.testns.${Z}`, 'A');
  response[2] |= 0x80;
  t.equal(await raw(dns, response), null, 'a response is never answered');

  const two = query(`svc1.testns.${Z}`, 'A');
  two.writeUInt16BE(2, 4);
  t.equal(decodeReply((await raw(dns, two))!).rcode, 'FORMERR', 'QDCOUNT 2');
  const none = query(`svc1.testns.${Z}`, 'A').subarray(0, 12);
  none.writeUInt16BE(0, 4);
  t.equal(decodeReply((await raw(dns, none))!).rcode, 'FORMERR', 'QDCOUNT 0');
  const cut = query(`svc1.testns.${Z}`, 'A').subarray(0, 20);
  const cutReply = (await raw(dns, cut))!;
  t.equal(cutReply.readUInt16BE(0), 0x1234, 'FORMERR keeps the ID');
  t.equal(cutReply[3] & 0xf, 1, 'truncated question: FORMERR');
  const pointer = Buffer.concat([query('x.', 'A').subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
  t.equal((await raw(dns, pointer))![3] & 0xf, 1, 'compression pointer in the question: FORMERR');
  const notify = query(`svc1.testns.${Z}`, 'A');
  notify[2] |= 4 << 3;
  t.equal((await raw(dns, notify))![3] & 0xf, 4, 'opcode NOTIFY: NOTIMP');
  t.equal((await ask(dns, `svc1.testns.${Z}`, 'A', { qclass: 3 })).rcode, 'NOTIMP', 'class CH in our zone');
  t.equal((await ask(dns, 'cluster.local.', 'AXFR')).rcode, 'REFUSED', 'no zone transfers');
});

t.test('SERVFAIL until the store has synced, never NXDOMAIN from an empty store', async (t) => {
  const store = new ObjectStore();
  const dns = inProcessDns(store);
  t.equal((await ask(dns, `web.default.${Z}`, 'A')).rcode, 'SERVFAIL');
  store.upsert(service('default', 'web', { clusterIPs: ['10.96.5.5'] }));
  store.markSynced('Service');
  store.markSynced('EndpointSlice');
  t.equal((await ask(dns, `web.default.${Z}`, 'A')).rcode, 'SERVFAIL', 'Namespaces not synced yet');
  store.markSynced('Namespace');
  t.strictSame((await ask(dns, `web.default.${Z}`, 'A')).answer, [`web.default.${Z} 5 IN A 10.96.5.5`]);
});

t.test('the index follows store changes and drops stale encoded answers', async (t) => {
  const store = syncedStore(clusterObjects());
  const dns = inProcessDns(store);
  t.equal((await ask(dns, `new.testns.${Z}`, 'A')).rcode, 'NXDOMAIN');
  store.upsert(service('testns', 'new', { clusterIPs: ['10.0.9.9'] }));
  t.strictSame((await ask(dns, `new.testns.${Z}`, 'A')).answer, [`new.testns.${Z} 5 IN A 10.0.9.9`]);
  store.upsert(service('testns', 'new', { clusterIPs: ['10.0.9.8'] }));
  t.strictSame((await ask(dns, `new.testns.${Z}`, 'A')).answer, [`new.testns.${Z} 5 IN A 10.0.9.8`]);
  t.equal((await ask(dns, '8.9.0.10.in-addr.arpa.', 'PTR', {})).answer.length, 1);
  store.remove('Service', 'testns/new');
  t.equal((await ask(dns, `new.testns.${Z}`, 'A')).rcode, 'NXDOMAIN');

  // A headless service: an endpoint turning ready, then its slice going away.
  store.upsert(service('testns', 'h', { clusterIPs: [], headless: true }));
  t.equal((await ask(dns, `h.testns.${Z}`, 'A')).rcode, 'NXDOMAIN');
  store.upsert(endpointSlice('testns', 'h', 'h-1', [endpoint('172.9.0.1', { ready: false })]));
  t.equal((await ask(dns, `h.testns.${Z}`, 'A')).rcode, 'NXDOMAIN');
  store.upsert(endpointSlice('testns', 'h', 'h-1', [endpoint('172.9.0.1')]));
  t.strictSame((await ask(dns, `h.testns.${Z}`, 'A')).answer, [`h.testns.${Z} 5 IN A 172.9.0.1`]);
  store.remove('EndpointSlice', 'testns/h-1');
  t.equal((await ask(dns, `h.testns.${Z}`, 'A')).rcode, 'NXDOMAIN');
  t.equal((await ask(dns, '1.0.9.172.in-addr.arpa.', 'PTR')).answer.length, 0, 'its PTR went too');
});

t.test('pods verified and disabled', async (t) => {
  const objects = [...clusterObjects(), pod('default', 'p', '10.244.2.7')];
  const verified = inProcessDns(syncedStore(objects), { pods: 'verified' });
  t.strictSame((await ask(verified, '10-244-1-5.testns.pod.cluster.local.', 'A')).answer, ['10-244-1-5.testns.pod.cluster.local. 5 IN A 10.244.1.5']);
  t.equal((await ask(verified, '10-244-2-7.testns.pod.cluster.local.', 'A')).rcode, 'NXDOMAIN', 'pod is in another namespace');
  t.equal((await ask(verified, '1-2-3-4.testns.pod.cluster.local.', 'A')).rcode, 'NXDOMAIN', 'no such pod');
  const disabled = inProcessDns(syncedStore(objects), { pods: 'disabled' });
  t.equal((await ask(disabled, '10-244-1-5.testns.pod.cluster.local.', 'A')).rcode, 'NXDOMAIN');
});

t.test('forwarding: REFUSED with no forwarder, the forwarder reply otherwise, SERVFAIL when it fails', async (t) => {
  const store = syncedStore(clusterObjects());
  const none = inProcessDns(store);
  t.equal((await ask(none, 'example.org.', 'A')).rcode, 'REFUSED');
  t.equal((await ask(none, '9.9.9.9.in-addr.arpa.', 'PTR')).rcode, 'REFUSED', 'PTR outside our ranges falls through');

  const seen: string[] = [];
  const forwarder: Forwarder = {
    async forward(q) {
      seen.push(decodeReply(q).question);
      if (decodeReply(q).question.startsWith('fail.')) return null;
      const reply = Buffer.from(q);
      reply[2] |= 0x80;
      reply[3] = (reply[3] & 0xf0) | 3;
      return reply;
    },
  };
  const dns = new ClusterDns({ store, config: dnsConfig(), forwarder });
  dns.index.start();
  t.equal((await ask(dns, 'example.org.', 'A')).rcode, 'NXDOMAIN', 'the upstream answer is passed on');
  t.equal((await ask(dns, 'fail.example.org.', 'A')).rcode, 'SERVFAIL');
  t.equal((await ask(dns, '9.9.9.9.in-addr.arpa.', 'PTR')).rcode, 'NXDOMAIN');
  t.strictSame(seen, ['example.org. A', 'fail.example.org. A', '9.9.9.9.in-addr.arpa. PTR']);
  t.equal((await ask(dns, `nope.testns.${Z}`, 'A')).rcode, 'NXDOMAIN', 'cluster.local does not fall through by default');
  t.equal(seen.length, 3);
});

t.test('observe hook sees every reply', async (t) => {
  const seen: Array<{ rcode: number; fromCache: boolean; zone: string | null; name: string }> = [];
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig(), observe: (o) => seen.push(o) });
  dns.index.start();
  await ask(dns, `svc1.testns.${Z}`, 'A');
  await ask(dns, `svc1.testns.${Z}`, 'A');
  await ask(dns, `x.testns.${Z}`, 'A');
  t.strictSame(seen.map((o) => [o.zone, o.rcode, o.fromCache]), [
    ['cluster.local.', 0, false],
    ['cluster.local.', 0, true],
    ['cluster.local.', 3, false],
  ]);
  t.strictSame(seen.map((o) => o.name), [`svc1.testns.${Z}`, `svc1.testns.${Z}`, `x.testns.${Z}`]);
});

t.test('ExternalName outside the zone: the CNAME, then the upstream addresses of the target', async (t) => {
  const { default: dns2 } = await import('dns2');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const Packet = (dns2 as any).Packet;
  const asked: string[] = [];
  const forwarder: Forwarder = {
    async forward(q) {
      const req = Packet.parse(q);
      asked.push(`${req.questions[0].name} ${req.questions[0].type}`);
      const resp = Packet.createResponseFromRequest(req);
      if (req.questions[0].type === 1) {
        resp.answers.push({ name: 'ext.interwebs.test', type: 5, class: 1, ttl: 60, domain: 'cdn.interwebs.test' });
        resp.answers.push({ name: 'cdn.interwebs.test', type: 1, class: 1, ttl: 60, address: '1.2.3.4' });
      }
      return resp.toBuffer();
    },
  };
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig(), forwarder });
  dns.index.start();
  const r = await ask(dns, `external.testns.${Z}`, 'A');
  t.equal(r.rcode, 'NOERROR');
  t.strictSame(r.answer, [
    `external.testns.${Z} 5 IN CNAME ext.interwebs.test.`,
    'ext.interwebs.test. 5 IN CNAME cdn.interwebs.test.',
    'cdn.interwebs.test. 5 IN A 1.2.3.4',
  ], 'under cache 30 the whole message carries its lowest TTL, as CoreDNS');
  t.strictSame(asked, ['ext.interwebs.test 1']);
  const cname = await ask(dns, `external.testns.${Z}`, 'CNAME');
  t.strictSame(cname.answer, [`external.testns.${Z} 5 IN CNAME ext.interwebs.test.`], 'a CNAME question is not chased');
  t.equal(asked.length, 1);
});

t.test('loadbalance rotates address answers; off keeps one order', async (t) => {
  const on = inProcessDns(syncedStore(clusterObjects()), { loadbalance: true });
  const firsts = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const r = await ask(on, `hdls1.testns.${Z}`, 'A');
    t.equal(r.answer.length, 4);
    t.strictSame([...r.answer].sort(), ['172.0.0.2', '172.0.0.3', '172.0.0.4', '172.0.0.5'].map((ip) => `hdls1.testns.${Z} 5 IN A ${ip}`));
    firsts.add(r.answer[0]);
  }
  t.equal(firsts.size, 4, 'each of four replies led with another address');
  const srv = await ask(on, `_http._tcp.hdls1.testns.${Z}`, 'SRV');
  t.equal(srv.answer.length, 5, 'SRV answers are left alone and still decode');
  const off = inProcessDns(syncedStore(clusterObjects()), { loadbalance: false });
  const a = await ask(off, `hdls1.testns.${Z}`, 'A');
  const b = await ask(off, `hdls1.testns.${Z}`, 'A');
  t.strictSame(a.answer, b.answer);
});

t.test('addresses that are not IPs in the store are left out, never encoded', async (t) => {
  const objects = [
    ...clusterObjects(),
    service('testns', 'odd', { clusterIPs: ['not-an-ip', '10.0.7.7'] }),
    service('testns', 'oddh', { clusterIPs: [], headless: true }),
    endpointSlice('testns', 'oddh', 'oddh-1', [endpoint('999.1.1.1'), endpoint('10.0.7.8')]),
  ];
  const dns = inProcessDns(syncedStore(objects));
  t.strictSame((await ask(dns, `odd.testns.${Z}`, 'A')).answer, [`odd.testns.${Z} 5 IN A 10.0.7.7`]);
  t.strictSame((await ask(dns, `odd.testns.${Z}`, 'AAAA')).answer, []);
  t.strictSame((await ask(dns, `oddh.testns.${Z}`, 'A')).answer, [`oddh.testns.${Z} 5 IN A 10.0.7.8`]);
});

t.test('an error while answering costs one SERVFAIL, not the server', async (t) => {
  const { DnsHandler } = await import('../../../src/dns/answer/handler.ts');
  const errors: string[] = [];
  const broken = {
    zoneOf: () => 'cluster.local.',
    resolve: () => {
      throw new Error('boom');
    },
  } as unknown as import('../../../src/dns/zone/resolve.ts').Resolver;
  const handler = new DnsHandler({ resolver: broken, synced: () => true, answerCacheSize: 10, onError: (e) => errors.push(e.message) });
  const reply = await handler.handle(query(`svc1.testns.${Z}`, 'A'), 'udp');
  t.equal(decodeReply(reply!).rcode, 'SERVFAIL');
  t.strictSame(errors, ['boom']);
});

t.test('log: one line per query when the config asks', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const log = { info: (o: Record<string, unknown>) => lines.push(o) } as unknown as import('../../../src/base/log.ts').Logger;
  const on = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig({ log: true }), log });
  on.index.start();
  await ask(on, `svc1.testns.${Z}`, 'A');
  await ask(on, `nope.testns.${Z}`, 'AAAA');
  t.strictSame(lines.map((l) => [l.name, l.type, l.rcode, l.proto]), [
    [`svc1.testns.${Z}`, 'A', 'NOERROR', 'udp'],
    [`nope.testns.${Z}`, 'AAAA', 'NXDOMAIN', 'udp'],
  ]);
  const off = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig({ log: false }), log });
  off.index.start();
  await ask(off, `svc1.testns.${Z}`, 'A');
  t.equal(lines.length, 2, 'nothing logged with log off');
});
