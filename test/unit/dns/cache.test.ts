import t from 'tap';
import { CachingForwarder } from '../../../src/dns/cache/caching-forwarder.ts';
import { cacheKey, DnsCache, defaultCacheLimits } from '../../../src/dns/cache/dns-cache.ts';
import type { CacheLimits } from '../../../src/dns/cache/dns-cache.ts';
import { rr } from '../../../src/dns/wire/records.ts';
import type { ResourceRecord } from '../../../src/dns/wire/records.ts';
import { Rcode, RRType } from '../../../src/dns/wire/constants.ts';
import { buildQuery } from '../../../src/dns/wire/answer-reader.ts';
import { encodeMessage } from '../../../src/dns/wire/writer.ts';

const SOA = (ttl: number, minimum: number) =>
  rr.soa('example.test.', ttl, { mname: 'ns.example.test.', rname: 'host.example.test.', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum });

function reply(name: string, qtype: number, rcode: number, answer: ResourceRecord[], authority: ResourceRecord[] = [], id = 1): Buffer {
  const q = buildQuery(id, name, qtype);
  return Buffer.from(encodeMessage({ id, queryFlags: 0x0100, question: q.subarray(12), qname: name, rcode, authoritative: false, answer, authority, additional: [] }).bytes);
}

/** TTLs of every record, in order, read back from a reply. */
function ttls(b: Buffer): number[] {
  let pos = 12;
  const skip = () => {
    while (b[pos] !== 0) {
      if ((b[pos] & 0xc0) === 0xc0) return (pos += 2);
      pos += b[pos] + 1;
    }
    return (pos += 1);
  };
  skip();
  pos += 4;
  const out: number[] = [];
  const n = b.readUInt16BE(6) + b.readUInt16BE(8) + b.readUInt16BE(10);
  for (let i = 0; i < n; i++) {
    skip();
    out.push(b.readUInt32BE(pos + 4));
    pos += 10 + b.readUInt16BE(pos + 8);
  }
  return out;
}

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (s: number) => (now += s * 1000) };
}

const limits = (over: Partial<CacheLimits> = {}): CacheLimits => ({ ...defaultCacheLimits(), ...over });
const key = (name: string, qtype: number = RRType.A) => cacheKey(name, qtype, 1, false);

t.test('TTLs decrease with age and nothing is served past expiry', async (t) => {
  const c = clock();
  const cache = new DnsCache(limits(), c.now);
  t.equal(cache.set(key('a.example.test.'), reply('a.example.test.', RRType.A, Rcode.NOERROR, [rr.a('a.example.test.', 100, '192.0.2.1'), rr.a('a.example.test.', 60, '192.0.2.2')])).cls, 'success');
  t.strictSame(ttls(cache.get(key('a.example.test.'))!.reply), [60, 60], 'capped at the smallest TTL, the entry lifetime');
  c.advance(25.5);
  t.strictSame(ttls(cache.get(key('a.example.test.'))!.reply), [35, 35], 'aged by whole seconds');
  c.advance(34.4);
  t.ok(cache.get(key('a.example.test.')), 'still there just before expiry');
  c.advance(0.2);
  t.equal(cache.get(key('a.example.test.')), undefined, 'gone at expiry');
});

t.test('cache TTL caps the lifetime (cache 30)', async (t) => {
  const c = clock();
  const cache = new DnsCache(limits({ successTtl: 30, denialTtl: 30 }), c.now);
  cache.set(key('b.example.test.'), reply('b.example.test.', RRType.A, Rcode.NOERROR, [rr.a('b.example.test.', 3600, '192.0.2.3')]));
  t.strictSame(ttls(cache.get(key('b.example.test.'))!.reply), [30]);
  c.advance(30);
  t.equal(cache.get(key('b.example.test.')), undefined, 'expired after 30 s although the record said 3600');
});

t.test('minimum TTL keeps very short answers for MINTTL', async (t) => {
  const c = clock();
  const cache = new DnsCache(limits(), c.now);
  cache.set(key('z.example.test.'), reply('z.example.test.', RRType.A, Rcode.NOERROR, [rr.a('z.example.test.', 1, '192.0.2.9')]));
  c.advance(4);
  t.ok(cache.get(key('z.example.test.')), 'kept 5 s (CoreDNS MINTTL)');
  t.strictSame(ttls(cache.get(key('z.example.test.'))!.reply), [1], 'answered with the raised TTL, counting down (5 - 4)');
  c.advance(1);
  t.equal(cache.get(key('z.example.test.')), undefined, 'gone after 5 s');
});

t.test('negative answers: the lowest record TTL (the SOA\'s, as CoreDNS reads it), capped by denial TTL', async (t) => {
  const c = clock();
  const cache = new DnsCache(limits({ denialTtl: 20 }), c.now);
  t.equal(cache.set(key('nx.example.test.'), reply('nx.example.test.', RRType.A, Rcode.NXDOMAIN, [], [SOA(10, 300)])).cls, 'denial', 'NXDOMAIN');
  t.equal(cache.set(key('nodata.example.test.', RRType.AAAA), reply('nodata.example.test.', RRType.AAAA, Rcode.NOERROR, [], [SOA(300, 60)])).cls, 'denial', 'NODATA');
  t.equal(cache.size('denial'), 2);
  c.advance(9);
  t.equal(cache.get(key('nx.example.test.'))!.kind, 'denial');
  t.strictSame(ttls(cache.get(key('nx.example.test.'))!.reply), [1], 'SOA TTL aged from its own 10');
  c.advance(1);
  t.equal(cache.get(key('nx.example.test.')), undefined, 'NXDOMAIN expired at the SOA TTL');
  t.ok(cache.get(key('nodata.example.test.', RRType.AAAA)), 'NODATA still there');
  c.advance(10);
  t.equal(cache.get(key('nodata.example.test.', RRType.AAAA)), undefined, 'NODATA expired at the denial cap (20 s) though its SOA said 300');
});

t.test('SERVFAIL is kept for the servfail duration (5 s unless set); other errors and truncated replies are not cached', async (t) => {
  const c = clock();
  const cache = new DnsCache(limits(), c.now);
  const sf = cache.set(key('s.example.test.'), reply('s.example.test.', RRType.A, Rcode.SERVFAIL, []));
  t.strictSame([sf.cls, sf.durationS], ['servfail', 5], 'SERVFAIL');
  t.equal(cache.get(key('s.example.test.'))?.kind, 'denial', 'kept with the denials, as CoreDNS');
  c.advance(5);
  t.equal(cache.get(key('s.example.test.')), undefined, 'gone after 5 s');
  t.equal(cache.set(key('r.example.test.'), reply('r.example.test.', RRType.A, Rcode.REFUSED, [])).durationS, 0, 'REFUSED');
  t.equal(cache.set(key('n.example.test.'), reply('n.example.test.', RRType.A, Rcode.NXDOMAIN, [])).durationS, 0, 'NXDOMAIN without SOA');
  const tc = reply('t.example.test.', RRType.A, Rcode.NOERROR, [rr.a('t.example.test.', 60, '192.0.2.1')]);
  tc.writeUInt16BE(tc.readUInt16BE(2) | 0x0200, 2);
  t.equal(cache.set(key('t.example.test.'), tc).cls, null, 'TC set');
  const none = new DnsCache(limits({ servfailTtl: 0 }), c.now);
  t.equal(none.set(key('s.example.test.'), reply('s.example.test.', RRType.A, Rcode.SERVFAIL, [])).durationS, 0, 'servfail 0s keeps none');
});

/** Stores an answer for `n` in `cache`. */
const answerIn = (cache: DnsCache) => (n: string) => cache.set(key(n), reply(n, RRType.A, Rcode.NOERROR, [rr.a(n, 60, '192.0.2.1')]));

t.test('bounded per kind, least recently used evicted first', async (t) => {
  const cache = new DnsCache(limits({ successCapacity: 2, denialCapacity: 1 }));
  const put = answerIn(cache);
  put('1.example.test.');
  put('2.example.test.');
  cache.get(key('1.example.test.'));
  put('3.example.test.');
  t.ok(cache.get(key('1.example.test.')), 'recently used kept');
  t.equal(cache.get(key('2.example.test.')), undefined, 'least recently used evicted');
  t.equal(cache.size('success'), 2);
  cache.set(key('nx1.example.test.'), reply('nx1.example.test.', RRType.A, Rcode.NXDOMAIN, [], [SOA(60, 60)]));
  cache.set(key('nx2.example.test.'), reply('nx2.example.test.', RRType.A, Rcode.NXDOMAIN, [], [SOA(60, 60)]));
  t.equal(cache.size('denial'), 1, 'denials have their own bound');
  t.equal(cache.size('success'), 2, 'and do not push answers out');
});

t.test('eviction gives a used entry a second chance, and then takes the least recently used of those', async (t) => {
  const cache = new DnsCache(limits({ successCapacity: 2 }));
  const put = answerIn(cache);
  put('1.example.test.');
  put('2.example.test.');
  cache.get(key('1.example.test.'));
  cache.get(key('2.example.test.'));
  put('3.example.test.');
  t.equal(cache.get(key('1.example.test.')), undefined, 'both were used: the older one goes');
  t.ok(cache.get(key('2.example.test.')));
  t.ok(cache.get(key('3.example.test.')));
  put('4.example.test.');
  t.equal(cache.size('success'), 2);
  t.ok(cache.get(key('4.example.test.')), 'the new entry is kept');
});

t.test('the key: name case-folded, type, class, DO bit', async (t) => {
  t.equal(cacheKey('a.example.test.', 1, 1, false), 'a.example.test.|1|1|0');
  t.not(cacheKey('a.example.test.', 1, 1, true), cacheKey('a.example.test.', 1, 1, false), 'DO bit');
  t.not(cacheKey('a.example.test.', 28, 1, false), cacheKey('a.example.test.', 1, 1, false), 'type');
});

t.test('CachingForwarder: hits patch the ID and the question case; misses go upstream once', async (t) => {
  const c = clock();
  let upstreamCalls = 0;
  const next = {
    async forward(q: Buffer) {
      upstreamCalls++;
      return reply('www.example.test.', RRType.A, Rcode.NOERROR, [rr.a('www.example.test.', 120, '192.0.2.80')], [], q.readUInt16BE(0));
    },
  };
  const events: string[] = [];
  const fwd = new CachingForwarder(next, { limits: limits({ successTtl: 30 }), prefetch: 0, now: c.now, events: { hit: (k) => events.push(`hit ${k}`), miss: () => events.push('miss') } });
  const first = await fwd.forward(buildQuery(0x1111, 'www.example.test.', RRType.A));
  t.equal(first!.readUInt16BE(0), 0x1111);
  c.advance(10);
  const q2 = buildQuery(0x2222, 'WwW.Example.TEST.', RRType.A);
  const second = (await fwd.forward(q2))!;
  t.equal(upstreamCalls, 1, 'the second question was answered from the cache');
  t.equal(second.readUInt16BE(0), 0x2222, "the client's ID");
  t.equal(second.subarray(12, q2.length).toString('latin1'), q2.subarray(12).toString('latin1'), "the client's spelling of the name");
  t.strictSame(ttls(second), [20], 'TTL aged 10 s from the 30 s cap');
  t.strictSame(events, ['miss', 'hit success']);
});

t.test('prefetch refreshes a popular entry near its end', async (t) => {
  const c = clock();
  let upstreamCalls = 0;
  const next = {
    async forward(q: Buffer) {
      upstreamCalls++;
      return reply('p.example.test.', RRType.A, Rcode.NOERROR, [rr.a('p.example.test.', 100, '192.0.2.5')], [], q.readUInt16BE(0));
    },
  };
  const fwd = new CachingForwarder(next, { limits: limits(), prefetch: 2, now: c.now });
  const q = () => buildQuery(7, 'p.example.test.', RRType.A);
  await fwd.forward(q());
  await fwd.forward(q());
  await fwd.forward(q());
  c.advance(50);
  await fwd.forward(q());
  t.equal(upstreamCalls, 1, 'no prefetch while the entry is young');
  c.advance(45);
  await fwd.forward(q());
  await new Promise((r) => setImmediate(r));
  t.equal(upstreamCalls, 2, 'refreshed in the last 10% of its life');
  c.advance(10);
  t.strictSame(ttls((await fwd.forward(q()))!), [90], 'the refreshed entry is served after the old one would have expired');
});

t.test('an expired entry asked again is refreshed where it is, and eviction spares it once', async (t) => {
  let now = 0;
  const cache = new DnsCache({ ...defaultCacheLimits(), successCapacity: 2 }, () => now);
  const a = reply('a.example.test.', RRType.A, Rcode.NOERROR, [rr.a('a.example.test.', 10, '192.0.2.1')]);
  cache.set(key('a.example.test.'), a);
  now += 1000;
  cache.set(key('b.example.test.'), reply('b.example.test.', RRType.A, Rcode.NOERROR, [rr.a('b.example.test.', 60, '192.0.2.2')]));
  now += 10_000;
  t.equal(cache.get(key('a.example.test.')), undefined, 'a expired');
  cache.set(key('a.example.test.'), reply('a.example.test.', RRType.A, Rcode.NOERROR, [rr.a('a.example.test.', 10, '192.0.2.9')]));
  t.equal(cache.size('success'), 2, 'the refresh took no second entry');
  t.strictSame(ttls(cache.get(key('a.example.test.'))!.reply), [10], 'served fresh, with its full TTL');
  cache.set(key('c.example.test.'), reply('c.example.test.', RRType.A, Rcode.NOERROR, [rr.a('c.example.test.', 60, '192.0.2.3')]));
  t.ok(cache.get(key('a.example.test.')), 'the refreshed entry, oldest in the list, was spared');
  t.equal(cache.get(key('b.example.test.')), undefined, 'the next oldest went');
  t.ok(cache.get(key('c.example.test.')));
});
