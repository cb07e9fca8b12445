// Replies compared with CoreDNS 1.11.3's for the same questions (issue 19):
// one table per point, each row a question and what CoreDNS answered, in
// zone-file text. The cluster is fixture.ts's plus the names below; names
// outside it go to an in-process recursive upstream.
import t from 'tap';
import type * as Tap from 'tap';
import { CachingForwarder } from '../../../src/dns/cache/caching-forwarder.ts';
import { defaultCacheSettings } from '../../../src/dns/cache/cache-settings.ts';
import type { CacheSettings } from '../../../src/dns/cache/cache-settings.ts';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import type { DnsConfig } from '../../../src/dns/corefile/config.ts';
import { cacheLimitsOf, ForwardChain } from '../../../src/dns/forward-chain.ts';
import { rr } from '../../../src/dns/wire/records.ts';
import { endpoint, endpointSlice, service } from '../../helpers/objects.ts';
import type { QueryOptions, Reply } from './dns-helpers.ts';
import { decodeReply, dnsConfig, query, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import { RecursiveUpstream } from './recursive-upstream.ts';

const Z = 'svc.cluster.local.';
/** The addresses of the machine the server runs on. */
const LOCAL = ['10.244.0.53'];
const EDNS: QueryOptions = { udpSize: 4096 };

interface Step {
  /** Seconds since the test's start when this question is asked. */
  at?: number;
  qname: string;
  qtype: string;
  opts?: QueryOptions;
  /** The upstream answers SERVFAIL from this step on (true) or answers again (false). */
  upstreamFails?: boolean;
}

interface Row {
  name: string;
  config?: Partial<DnsConfig>;
  /** The server's own addresses; LOCAL unless given. */
  local?: string[];
  /** Questions asked first (their replies are not checked). */
  before?: Step[];
  ask: Step;
  /** What the reply must hold; fields left out are not checked. */
  want: Partial<Pick<Reply, 'rcode' | 'answer' | 'authority' | 'additional' | 'optSize'>> & { ra?: boolean; aa?: boolean; upstreamAsked?: number; servedStale?: number; cacheHit?: boolean };
}

/** kubeadm's `cache 30` with these properties. */
const cache30 = (over: Partial<CacheSettings> = {}): Partial<DnsConfig> => ({
  cache: { enabled: true, successTtl: 30, denialTtl: 30, prefetch: 0 },
  cacheLimits: { ...defaultCacheSettings(), successTtl: 30, denialTtl: 30, ...over },
});

function parityObjects() {
  return [
    ...clusterObjects(),
    service('testns', 'e20', { type: 'ExternalName', clusterIPs: [], externalName: 't20.example.com', ports: [] }),
    service('testns', 'e5', { type: 'ExternalName', clusterIPs: [], externalName: 't5.example.com', ports: [] }),
    service('testns', 'enx', { type: 'ExternalName', clusterIPs: [], externalName: 'missing.example.com', ports: [] }),
    // The DNS server's own pod: its address is one of the server's (LOCAL below).
    endpointSlice('kube-system', 'kube-dns', 'kube-dns-a', [endpoint('10.244.0.53')], { ports: [{ name: 'dns', protocol: 'UDP', port: 53 }] }),
  ];
}

function upstreamNames(up: RecursiveUpstream): void {
  up.names.set('t20.example.com.', { records: { A: [rr.a('t20.example.com.', 300, '192.0.2.20')] } });
  up.names.set('www.example.com.', { records: { A: [rr.a('www.example.com.', 300, '192.0.2.80')] } });
  up.names.set('t5.example.com.', { records: { A: [rr.a('t5.example.com.', 5, '192.0.2.5')] } });
  up.names.set('zero.example.com.', { records: { A: [rr.a('zero.example.com.', 0, '192.0.2.0')] } });
}

/**
 * A server as kubeadm's Corefile (Kubernetes 1.31) builds it: kubernetes
 * with ttl 30, cache 30, forward; on a clock the rows move.
 */
function server(over: Partial<DnsConfig> = {}, local = LOCAL) {
  let nowMs = 1_000_000;
  const now = () => nowMs;
  const up = new RecursiveUpstream();
  upstreamNames(up);
  const config = dnsConfig({ fallthrough: [], ttl: 30, ...cache30(), ...over });
  const stale = { served: 0 };
  const cache = new CachingForwarder(up, { limits: cacheLimitsOf(config), now, events: { servedStale: () => stale.served++ } });
  const chain = new ForwardChain({ head: cache, upstream: null, cache, hosts: null, loop: null });
  const seen: { fromCache: boolean | null } = { fromCache: null };
  const dns = new ClusterDns({ store: syncedStore(parityObjects()), config, forwarder: chain, now, localAddresses: () => local, observe: (o) => (seen.fromCache = o.fromCache) });
  dns.index.start();
  const start = nowMs;
  return {
    up,
    stale,
    seen,
    async ask(step: Step): Promise<Reply> {
      if (step.at !== undefined) nowMs = start + step.at * 1000;
      if (step.upstreamFails !== undefined) up.failing = step.upstreamFails;
      const reply = await dns.handler.handle(query(step.qname, step.qtype, step.opts), 'udp');
      if (!reply) throw new Error(`no reply for ${step.qname}`);
      return decodeReply(reply);
    },
  };
}

function runTable(t: Tap.Test, title: string, rows: Row[]): void {
  t.test(title, async (t) => {
    for (const row of rows) {
      const s = server(row.config, row.local);
      for (const b of row.before ?? []) await s.ask(b);
      const r = await s.ask(row.ask);
      const w = row.want;
      if (w.rcode !== undefined) t.equal(r.rcode, w.rcode, `${row.name}: rcode`);
      if (w.answer) t.strictSame(r.answer, w.answer, `${row.name}: answer`);
      if (w.authority) t.strictSame(r.authority, w.authority, `${row.name}: authority`);
      if (w.additional) t.strictSame(r.additional, w.additional, `${row.name}: additional`);
      if (w.optSize !== undefined) t.equal(r.optSize, w.optSize, `${row.name}: OPT UDP size (0: no OPT)`);
      if (w.ra !== undefined) t.equal(r.flags.ra, w.ra, `${row.name}: RA`);
      if (w.aa !== undefined) t.equal(r.flags.aa, w.aa, `${row.name}: AA`);
      if (w.cacheHit !== undefined) t.equal(s.seen.fromCache, w.cacheHit, `${row.name}: counted as a cache hit (plugin="cache")`);
      // Let refreshes started in the background (prefetch, serve_stale) reach the upstream.
      await new Promise((r) => setImmediate(r));
      if (w.upstreamAsked !== undefined) t.equal(s.up.asked.length, w.upstreamAsked, `${row.name}: questions the upstream got`);
      if (w.servedStale !== undefined) t.equal(s.stale.served, w.servedStale, `${row.name}: coredns_cache_served_stale_total`);
    }
  });
}

// Point 1: an upstream answer cached while chasing an ExternalName's target
// (asked without EDNS) is later the answer to a direct question with EDNS.
runTable(t, 'point 1: every reply to an EDNS query carries an OPT', [
  {
    name: 'target cached by the ExternalName chase, then asked directly with EDNS',
    before: [{ qname: `e20.testns.${Z}`, qtype: 'A', opts: EDNS }],
    ask: { qname: 't20.example.com.', qtype: 'A', opts: EDNS },
    want: { rcode: 'NOERROR', optSize: 4096 },
  },
  {
    name: 'a cached upstream answer with EDNS, asked again without: no OPT',
    before: [{ qname: 'www.example.com.', qtype: 'A', opts: EDNS }],
    ask: { qname: 'www.example.com.', qtype: 'A' },
    want: { rcode: 'NOERROR', optSize: 0 },
  },
  {
    name: 'the ExternalName itself',
    ask: { qname: `e20.testns.${Z}`, qtype: 'A', opts: EDNS },
    want: { rcode: 'NOERROR', optSize: 4096 },
  },
]);

// Point 2: the OPT says the size this client gets, not a fixed 1232.
runTable(t, 'point 2: the OPT echoes the UDP size the client gets', [
  { name: 'cluster answer, bufsize 512', ask: { qname: `svc1.testns.${Z}`, qtype: 'A', opts: { udpSize: 512 } }, want: { optSize: 512 } },
  { name: 'cluster answer, bufsize 4096', ask: { qname: `svc1.testns.${Z}`, qtype: 'A', opts: { udpSize: 4096 } }, want: { optSize: 4096 } },
  { name: 'cluster NXDOMAIN, bufsize 1400', ask: { qname: `nope.testns.${Z}`, qtype: 'A', opts: { udpSize: 1400 } }, want: { rcode: 'NXDOMAIN', optSize: 1400 } },
  { name: 'forwarded, bufsize 512 (upstream said 1232)', ask: { qname: 'www.example.com.', qtype: 'A', opts: { udpSize: 512 } }, want: { optSize: 512 } },
  {
    name: 'forwarded from the cache, bufsize 2048',
    before: [{ qname: 'www.example.com.', qtype: 'A', opts: EDNS }],
    ask: { qname: 'www.example.com.', qtype: 'A', opts: { udpSize: 2048 } },
    want: { optSize: 2048 },
  },
  { name: 'a size below 512 counts as 512 (RFC 6891 §6.2.5)', ask: { qname: `svc1.testns.${Z}`, qtype: 'A', opts: { udpSize: 100 } }, want: { optSize: 512 } },
]);

// Point 3: RA=0 on what the kubernetes zones answer, RA=1 on forwarded answers.
runTable(t, 'point 3: RA only on forwarded answers', [
  { name: 'cluster A', ask: { qname: `svc1.testns.${Z}`, qtype: 'A' }, want: { rcode: 'NOERROR', ra: false, aa: true } },
  { name: 'cluster NXDOMAIN', ask: { qname: `nope.testns.${Z}`, qtype: 'A' }, want: { rcode: 'NXDOMAIN', ra: false, aa: true } },
  { name: 'cluster NODATA', ask: { qname: `svc1.testns.${Z}`, qtype: 'AAAA' }, want: { rcode: 'NOERROR', ra: false } },
  { name: 'reverse zone PTR', ask: { qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR' }, want: { rcode: 'NOERROR', ra: false } },
  { name: 'apex SOA', ask: { qname: 'cluster.local.', qtype: 'SOA' }, want: { rcode: 'NOERROR', ra: false } },
  { name: 'class CH in the zone: NOTIMP', ask: { qname: `svc1.testns.${Z}`, qtype: 'A', opts: { qclass: 3 } }, want: { rcode: 'NOTIMP', ra: false } },
  { name: 'forwarded answer', ask: { qname: 'www.example.com.', qtype: 'A' }, want: { rcode: 'NOERROR', ra: true } },
  {
    name: 'forwarded answer from the cache',
    before: [{ qname: 'www.example.com.', qtype: 'A' }],
    ask: { qname: 'www.example.com.', qtype: 'A' },
    want: { rcode: 'NOERROR', ra: true },
  },
]);

// Point 4: CoreDNS's cache sits in front of the kubernetes zones too.
const svc1 = `svc1.testns.${Z}`;
const SOA = (ttl: number) => `cluster.local. ${ttl} IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 30`;
runTable(t, 'point 4: TTLs under cache, as the cache plugin documents them', [
  { name: 'kubernetes A at 0 s: 30', ask: { at: 0, qname: svc1, qtype: 'A' }, want: { answer: [`${svc1} 30 IN A 10.0.0.1`] } },
  { name: 'kubernetes A at +4 s: 26', before: [{ at: 0, qname: svc1, qtype: 'A' }], ask: { at: 4, qname: svc1, qtype: 'A' }, want: { answer: [`${svc1} 26 IN A 10.0.0.1`], cacheHit: true } },
  {
    name: 'kubernetes A at +8 s: 22',
    before: [{ at: 0, qname: svc1, qtype: 'A' }, { at: 4, qname: svc1, qtype: 'A' }],
    ask: { at: 8.9, qname: svc1, qtype: 'A' },
    want: { answer: [`${svc1} 22 IN A 10.0.0.1`] },
  },
  { name: 'aged out at +30 s: answered afresh, 30', before: [{ at: 0, qname: svc1, qtype: 'A' }], ask: { at: 30, qname: svc1, qtype: 'A' }, want: { answer: [`${svc1} 30 IN A 10.0.0.1`] } },
  {
    name: 'NXDOMAIN: the SOA TTL counts down too',
    before: [{ at: 0, qname: `nope.testns.${Z}`, qtype: 'A' }],
    ask: { at: 4, qname: `nope.testns.${Z}`, qtype: 'A' },
    want: { rcode: 'NXDOMAIN', authority: [SOA(26)] },
  },
  {
    name: 'NODATA: the SOA TTL counts down too',
    before: [{ at: 0, qname: svc1, qtype: 'AAAA' }],
    ask: { at: 10, qname: svc1, qtype: 'AAAA' },
    want: { rcode: 'NOERROR', answer: [], authority: [SOA(20)] },
  },
  { name: 'upstream TTL 0 raised to the minimum, 5', ask: { qname: 'zero.example.com.', qtype: 'A' }, want: { answer: ['zero.example.com. 5 IN A 192.0.2.0'] } },
  { name: 'upstream TTL 300 capped at 30', ask: { qname: 'www.example.com.', qtype: 'A' }, want: { answer: ['www.example.com. 30 IN A 192.0.2.80'] } },
  {
    name: 'forwarded answer from the cache at +10 s: 20, AA set',
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 10, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 20 IN A 192.0.2.80'], aa: true, upstreamAsked: 1 },
  },
  {
    name: 'ExternalName CNAME (30) and the target A (5): the whole message 5',
    ask: { qname: `e5.testns.${Z}`, qtype: 'A' },
    want: { answer: [`e5.testns.${Z} 5 IN CNAME t5.example.com.`, 't5.example.com. 5 IN A 192.0.2.5'] },
  },
  {
    name: 'ExternalName answer kept and aged as one message',
    before: [{ at: 0, qname: `e5.testns.${Z}`, qtype: 'A' }],
    ask: { at: 3, qname: `e5.testns.${Z}`, qtype: 'A' },
    want: { answer: [`e5.testns.${Z} 2 IN CNAME t5.example.com.`, 't5.example.com. 2 IN A 192.0.2.5'], upstreamAsked: 1 },
  },
  {
    name: 'kubeadm\'s disable success cluster.local: capped, not aged',
    config: cache30({ disableSuccess: ['cluster.local.'], disableDenial: ['cluster.local.'] }),
    before: [{ at: 0, qname: svc1, qtype: 'A' }],
    ask: { at: 4, qname: svc1, qtype: 'A' },
    want: { answer: [`${svc1} 30 IN A 10.0.0.1`], cacheHit: false },
  },
  {
    name: 'kubeadm\'s disable denial cluster.local: NXDOMAIN not aged',
    config: cache30({ disableSuccess: ['cluster.local.'], disableDenial: ['cluster.local.'] }),
    before: [{ at: 0, qname: `nope.testns.${Z}`, qtype: 'A' }],
    ask: { at: 4, qname: `nope.testns.${Z}`, qtype: 'A' },
    want: { rcode: 'NXDOMAIN', authority: [SOA(30)] },
  },
  {
    name: 'kubeadm\'s disable lines leave forwarded answers cached',
    config: cache30({ disableSuccess: ['cluster.local.'], disableDenial: ['cluster.local.'] }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 4, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 26 IN A 192.0.2.80'], upstreamAsked: 1 },
  },
  {
    name: 'keepttl: the stored TTL, not the remaining one',
    config: cache30({ keepTtl: true }),
    before: [{ at: 0, qname: svc1, qtype: 'A' }, { at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 12, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 30 IN A 192.0.2.80'], upstreamAsked: 1 },
  },
  {
    name: 'keepttl on a kubernetes answer',
    config: cache30({ keepTtl: true }),
    before: [{ at: 0, qname: svc1, qtype: 'A' }],
    ask: { at: 12, qname: svc1, qtype: 'A' },
    want: { answer: [`${svc1} 30 IN A 10.0.0.1`] },
  },
  {
    name: 'cache ZONES: a zone outside them is neither capped nor aged',
    config: cache30({ zones: ['example.com.'] }),
    ask: { qname: 'dns-version.cluster.local.', qtype: 'TXT' },
    want: { answer: ['dns-version.cluster.local. 28800 IN TXT "1.1.0"'] },
  },
  {
    name: 'cache ZONES: a forwarded name outside them passes through',
    config: cache30({ zones: ['cluster.local.'] }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 1, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 300 IN A 192.0.2.80'], upstreamAsked: 2 },
  },
  {
    name: 'no cache plugin: full TTLs, every time',
    config: { cache: { enabled: false, successTtl: 0, denialTtl: 0, prefetch: 0 }, cacheLimits: undefined },
    before: [{ at: 0, qname: svc1, qtype: 'A' }],
    ask: { at: 4, qname: 'dns-version.cluster.local.', qtype: 'TXT' },
    want: { answer: ['dns-version.cluster.local. 28800 IN TXT "1.1.0"'] },
  },
]);

// The rest of the cache plugin's properties, on forwarded answers.
runTable(t, 'cache properties: prefetch, serve_stale, servfail, disable', [
  {
    name: 'prefetch 2: a popular entry in its last 10% is refreshed',
    config: cache30({ prefetch: { amount: 2, durationMs: 60_000, percentage: 10 } }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }, { at: 10, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 27, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 3 IN A 192.0.2.80'], upstreamAsked: 2 },
  },
  {
    name: 'prefetch 2: hits farther apart than DURATION do not count',
    config: cache30({ successTtl: 300, prefetch: { amount: 2, durationMs: 10_000, percentage: 90 } }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }, { at: 20, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 280, qname: 'www.example.com.', qtype: 'A' },
    want: { upstreamAsked: 1 },
  },
  {
    name: 'without serve_stale an expired entry is asked again',
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 40, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 30 IN A 192.0.2.80'], upstreamAsked: 2 },
  },
  {
    name: 'serve_stale (immediate): the expired entry, TTL 0, then a refresh',
    config: cache30({ serveStale: { upToS: 3600, verify: false } }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 40, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 0 IN A 192.0.2.80'], upstreamAsked: 2, servedStale: 1 },
  },
  {
    name: 'serve_stale (immediate): after the refresh, fresh again',
    config: cache30({ serveStale: { upToS: 3600, verify: false } }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }, { at: 40, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 41, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 29 IN A 192.0.2.80'], upstreamAsked: 2 },
  },
  {
    name: 'serve_stale DURATION: not past it',
    config: cache30({ serveStale: { upToS: 60, verify: false } }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 95, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 30 IN A 192.0.2.80'], upstreamAsked: 2 },
  },
  {
    name: 'serve_stale verify: the upstream answers, its fresh answer is sent',
    config: cache30({ serveStale: { upToS: 3600, verify: true } }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 40, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 30 IN A 192.0.2.80'], upstreamAsked: 2, servedStale: 0 },
  },
  {
    name: 'serve_stale verify: the upstream fails, the stale entry is sent',
    config: cache30({ serveStale: { upToS: 3600, verify: true } }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 40, qname: 'www.example.com.', qtype: 'A', upstreamFails: true },
    want: { rcode: 'NOERROR', answer: ['www.example.com. 0 IN A 192.0.2.80'], upstreamAsked: 2, servedStale: 1 },
  },
  {
    name: 'servfail: an upstream SERVFAIL is kept 5 s',
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A', upstreamFails: true }],
    ask: { at: 4, qname: 'www.example.com.', qtype: 'A', upstreamFails: false },
    want: { rcode: 'SERVFAIL', upstreamAsked: 1 },
  },
  {
    name: 'servfail 0s: not kept',
    config: cache30({ servfailTtl: 0 }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A', upstreamFails: true }],
    ask: { at: 1, qname: 'www.example.com.', qtype: 'A', upstreamFails: false },
    want: { rcode: 'NOERROR', upstreamAsked: 2 },
  },
  {
    name: 'disable success example.com: asked every time, still capped',
    config: cache30({ disableSuccess: ['example.com.'] }),
    before: [{ at: 0, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 1, qname: 'www.example.com.', qtype: 'A' },
    want: { answer: ['www.example.com. 30 IN A 192.0.2.80'], upstreamAsked: 2 },
  },
  {
    name: 'disable denial example.com: NXDOMAIN asked every time, answers still cached',
    config: cache30({ disableDenial: ['example.com.'] }),
    before: [{ at: 0, qname: 'nx.example.com.', qtype: 'A' }, { at: 0, qname: 'www.example.com.', qtype: 'A' }, { at: 1, qname: 'www.example.com.', qtype: 'A' }],
    ask: { at: 1, qname: 'nx.example.com.', qtype: 'A' },
    want: { rcode: 'NXDOMAIN', upstreamAsked: 3 },
  },
]);

// Point 5: an ExternalName whose target has no records of the asked type.
const SOA30 = SOA(30);
runTable(t, 'point 5: ExternalName to a target without the asked type is NODATA', [
  {
    name: 'target outside the zone has A only, AAAA asked: NODATA with the zone SOA',
    ask: { qname: `e20.testns.${Z}`, qtype: 'AAAA' },
    want: { rcode: 'NOERROR', answer: [], authority: [SOA30] },
  },
  {
    name: 'target outside the zone does not exist: NODATA with the zone SOA',
    ask: { qname: `enx.testns.${Z}`, qtype: 'A' },
    want: { rcode: 'NOERROR', answer: [], authority: [SOA30] },
  },
  {
    name: 'the chase found records: CNAME and the records',
    ask: { qname: `e20.testns.${Z}`, qtype: 'A' },
    want: { rcode: 'NOERROR', answer: [`e20.testns.${Z} 30 IN CNAME t20.example.com.`, 't20.example.com. 30 IN A 192.0.2.20'], authority: [] },
  },
  {
    name: 'target in the zone without AAAA: NODATA',
    ask: { qname: `external-to-service.testns.${Z}`, qtype: 'AAAA' },
    want: { rcode: 'NOERROR', answer: [], authority: [SOA30] },
  },
  {
    name: 'target in the zone with A: CNAME and A',
    ask: { qname: `external-to-service.testns.${Z}`, qtype: 'A' },
    want: { rcode: 'NOERROR', answer: [`external-to-service.testns.${Z} 30 IN CNAME ${svc1}`, `${svc1} 30 IN A 10.0.0.1`] },
  },
  {
    name: 'a CNAME question is answered with the CNAME, not chased',
    ask: { qname: `e20.testns.${Z}`, qtype: 'CNAME' },
    want: { rcode: 'NOERROR', answer: [`e20.testns.${Z} 30 IN CNAME t20.example.com.`], upstreamAsked: 0 },
  },
]);

// Point 6: SRV for a pod name.
const pod = '10-244-1-5.testns.pod.cluster.local.';
runTable(t, 'point 6: SRV for a pod name', [
  { name: 'v4 pod: SRV 0 100 0 to itself, its A as additional', ask: { qname: pod, qtype: 'SRV' }, want: { rcode: 'NOERROR', answer: [`${pod} 30 IN SRV 0 100 0 ${pod}`], additional: [`${pod} 30 IN A 10.244.1.5`] } },
  {
    name: 'v6 pod: its AAAA as additional',
    ask: { qname: 'fd00--1.testns.pod.cluster.local.', qtype: 'SRV' },
    want: { rcode: 'NOERROR', answer: ['fd00--1.testns.pod.cluster.local. 30 IN SRV 0 100 0 fd00--1.testns.pod.cluster.local.'], additional: ['fd00--1.testns.pod.cluster.local. 30 IN AAAA fd00::1'] },
  },
  { name: 'pod TXT stays NODATA', ask: { qname: pod, qtype: 'TXT' }, want: { rcode: 'NOERROR', answer: [], authority: [SOA30] } },
]);

// Point 7: kubeadm's `fallthrough in-addr.arpa ip6.arpa` sends non-PTR questions in the reverse zones on.
const reverseFallthrough: Partial<DnsConfig> = { fallthrough: ['in-addr.arpa.', 'ip6.arpa.'] };
runTable(t, 'point 7: non-PTR types in the reverse zones fall through', [
  {
    name: 'A on a ClusterIP\'s reverse name goes to the upstream',
    config: reverseFallthrough,
    ask: { qname: '1.0.0.10.in-addr.arpa.', qtype: 'A' },
    want: { rcode: 'NXDOMAIN', ra: true, upstreamAsked: 1 },
  },
  {
    name: 'TXT on an ip6.arpa name goes to the upstream',
    config: reverseFallthrough,
    ask: { qname: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa.', qtype: 'TXT' },
    want: { ra: true, upstreamAsked: 1 },
  },
  {
    name: 'PTR is still answered from the zone',
    config: reverseFallthrough,
    ask: { qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR' },
    want: { rcode: 'NOERROR', answer: [`1.0.0.10.in-addr.arpa. 30 IN PTR ${svc1}`], ra: false, upstreamAsked: 0 },
  },
  {
    name: 'without fallthrough: NODATA from the zone',
    ask: { qname: '1.0.0.10.in-addr.arpa.', qtype: 'A' },
    want: { rcode: 'NOERROR', answer: [], ra: false, upstreamAsked: 0 },
  },
]);

// Point 8: the apex NS names the Service whose endpoint is the server's own address.
const kubeDns = `kube-dns.kube-system.${Z}`;
runTable(t, 'point 8: apex NS', [
  {
    name: 'NS: the kube-dns Service, its ClusterIP as glue',
    ask: { qname: 'cluster.local.', qtype: 'NS' },
    want: { rcode: 'NOERROR', answer: [`cluster.local. 30 IN NS ${kubeDns}`], additional: [`${kubeDns} 30 IN A 10.96.0.10`] },
  },
  { name: 'the NS name answers A', ask: { qname: kubeDns, qtype: 'A' }, want: { rcode: 'NOERROR', answer: [`${kubeDns} 30 IN A 10.96.0.10`] } },
  { name: 'ns.dns A: the same addresses', ask: { qname: 'ns.dns.cluster.local.', qtype: 'A' }, want: { rcode: 'NOERROR', answer: ['ns.dns.cluster.local. 30 IN A 10.96.0.10'] } },
  {
    name: 'no Service has the server\'s address: ns.dns with the server\'s own addresses',
    local: ['192.0.2.53'],
    ask: { qname: 'cluster.local.', qtype: 'NS' },
    want: { rcode: 'NOERROR', answer: ['cluster.local. 30 IN NS ns.dns.cluster.local.'], additional: ['ns.dns.cluster.local. 30 IN A 192.0.2.53'] },
  },
  {
    name: 'the SOA keeps ns.dns as its primary name',
    ask: { qname: 'cluster.local.', qtype: 'SOA' },
    want: { rcode: 'NOERROR', answer: [SOA30] },
  },
]);

// Point 9: dns-version's TTL, and class CH.
runTable(t, 'point 9: dns-version TXT and class CH', [
  { name: 'dns-version TXT: 28800 capped by cache 30', ask: { qname: 'dns-version.cluster.local.', qtype: 'TXT' }, want: { answer: ['dns-version.cluster.local. 30 IN TXT "1.1.0"'] } },
  {
    name: 'class CH for a cluster name: NOTIMP, even once the IN answer is cached',
    before: [{ qname: svc1, qtype: 'A' }],
    ask: { qname: svc1, qtype: 'A', opts: { qclass: 3 } },
    want: { rcode: 'NOTIMP', answer: [] },
  },
]);
