// Cache hits answered within the batch (Forwarder.lookup): each reply is a
// copy with its own query's ID and spelling, so replies sent together do not
// share bytes.
import t from 'tap';
import { CachingForwarder } from '../../../src/dns/cache/caching-forwarder.ts';
import { defaultCacheLimits } from '../../../src/dns/cache/dns-cache.ts';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import type { Forwarder } from '../../../src/dns/forward/forwarder.ts';
import { ForwardChain } from '../../../src/dns/forward-chain.ts';
import { rr } from '../../../src/dns/wire/records.ts';
import { parseQuery } from '../../../src/dns/wire/query.ts';
import { encodeMessage } from '../../../src/dns/wire/writer.ts';
import { decodeReply, dnsConfig, query, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';

function upstream(): Forwarder & { calls: number } {
  const u = {
    calls: 0,
    async forward(q: Buffer) {
      u.calls++;
      const p = parseQuery(q);
      if (p.kind !== 'query') return null;
      const m = encodeMessage({
        id: p.query.id, queryFlags: p.query.flags, question: q.subarray(12, p.query.questionEnd), qname: p.query.name, rcode: 0, authoritative: false,
        answer: [rr.a(p.query.name, 60, '192.0.2.80')], authority: [], additional: [],
      });
      const out = Buffer.from(m.bytes);
      out.writeUInt16BE(p.query.id, 0);
      out.writeUInt16BE(out.readUInt16BE(2) | 0x8000, 2);
      return out;
    },
  };
  return u;
}

t.test('two hits on one entry handled before either is sent keep their own IDs and case', async (t) => {
  const up = upstream();
  const cache = new CachingForwarder(up, { limits: defaultCacheLimits(), prefetch: 0 });
  const chain = new ForwardChain({ head: cache, upstream: null, cache, hosts: null, loop: null });
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config: dnsConfig(), forwarder: chain });
  dns.index.start();
  await dns.handler.handle(query('www.example.test.', 'A', { id: 1 }), 'udp');
  t.equal(up.calls, 1, 'first: a miss, asked upstream');
  const a = dns.handler.handle(query('www.example.test.', 'A', { id: 2 }), 'udp');
  const b = dns.handler.handle(query('WWW.Example.test.', 'A', { id: 3 }), 'udp');
  t.ok(Buffer.isBuffer(a) && Buffer.isBuffer(b), 'hits are answered at once, no promise');
  t.equal(up.calls, 1, 'not asked again');
  const ra = decodeReply(a as Buffer);
  const rb = decodeReply(b as Buffer);
  t.equal(ra.id, 2);
  t.equal(rb.id, 3);
  t.equal(ra.question, 'www.example.test. A');
  t.equal(rb.question, 'WWW.Example.test. A');
  t.strictSame(ra.answer.map((x) => x.replace(/ \d+ IN /, ' IN ')), ['www.example.test. IN A 192.0.2.80']);
});

t.test('lookup leaves the query to forward() while hosts or a loop probe come first', async (t) => {
  const up = upstream();
  const cache = new CachingForwarder(up, { limits: defaultCacheLimits(), prefetch: 0 });
  await cache.forward(query('www.example.test.', 'A'));
  t.ok(cache.lookup(query('www.example.test.', 'A')), 'the cache itself has it');
  const fakeHosts = { forward: async () => null } as unknown as ConstructorParameters<typeof ForwardChain>[0]['hosts'];
  const withHosts = new ForwardChain({ head: cache, upstream: null, cache, hosts: fakeHosts, loop: null });
  t.equal(withHosts.lookup(query('www.example.test.', 'A')), null, 'hosts first: no shortcut');
  const probing = { quiet: false } as unknown as ConstructorParameters<typeof ForwardChain>[0]['loop'];
  const withLoop = new ForwardChain({ head: cache, upstream: null, cache, hosts: null, loop: probing });
  t.equal(withLoop.lookup(query('www.example.test.', 'A')), null, 'loop probing: no shortcut');
});
