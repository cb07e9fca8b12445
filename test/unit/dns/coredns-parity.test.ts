// Replies compared with CoreDNS 1.11.3's for the same questions (issue 19):
// one table per point, each row a question and what CoreDNS answered, in
// zone-file text. The cluster is fixture.ts's plus the names below; names
// outside it go to an in-process recursive upstream.
import t from 'tap';
import type * as Tap from 'tap';
import { CachingForwarder } from '../../../src/dns/cache/caching-forwarder.ts';
import { defaultCacheLimits } from '../../../src/dns/cache/dns-cache.ts';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import type { DnsConfig } from '../../../src/dns/corefile/config.ts';
import { ForwardChain } from '../../../src/dns/forward-chain.ts';
import { rr } from '../../../src/dns/wire/records.ts';
import { service } from '../../helpers/objects.ts';
import type { QueryOptions, Reply } from './dns-helpers.ts';
import { decodeReply, dnsConfig, query, syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import { RecursiveUpstream } from './recursive-upstream.ts';

const Z = 'svc.cluster.local.';
const EDNS: QueryOptions = { udpSize: 4096 };

interface Step {
  /** Seconds since the test's start when this question is asked. */
  at?: number;
  qname: string;
  qtype: string;
  opts?: QueryOptions;
}

interface Row {
  name: string;
  config?: Partial<DnsConfig>;
  /** Questions asked first (their replies are not checked). */
  before?: Step[];
  ask: Step;
  /** What the reply must hold; fields left out are not checked. */
  want: Partial<Pick<Reply, 'rcode' | 'answer' | 'authority' | 'additional' | 'optSize'>> & { ra?: boolean; aa?: boolean };
}

function parityObjects() {
  return [
    ...clusterObjects(),
    service('testns', 'e20', { type: 'ExternalName', clusterIPs: [], externalName: 't20.example.com', ports: [] }),
  ];
}

function upstreamNames(up: RecursiveUpstream): void {
  up.names.set('t20.example.com.', { records: { A: [rr.a('t20.example.com.', 300, '192.0.2.20')] } });
  up.names.set('www.example.com.', { records: { A: [rr.a('www.example.com.', 300, '192.0.2.80')] } });
}

/** A server as kubeadm's Corefile builds it (kubernetes, then cache 30 and forward), on a clock the rows move. */
function server(over: Partial<DnsConfig> = {}) {
  let nowMs = 1_000_000;
  const up = new RecursiveUpstream();
  upstreamNames(up);
  const config = dnsConfig({ fallthrough: [], ...over });
  const cache = new CachingForwarder(up, { limits: { ...defaultCacheLimits(), successTtl: 30, denialTtl: 30 }, prefetch: 0, now: () => nowMs });
  const chain = new ForwardChain({ head: cache, upstream: null, cache, hosts: null, loop: null });
  const dns = new ClusterDns({ store: syncedStore(parityObjects()), config, forwarder: chain });
  dns.index.start();
  const start = nowMs;
  return {
    up,
    async ask(step: Step): Promise<Reply> {
      if (step.at !== undefined) nowMs = start + step.at * 1000;
      const reply = await dns.handler.handle(query(step.qname, step.qtype, step.opts), 'udp');
      if (!reply) throw new Error(`no reply for ${step.qname}`);
      return decodeReply(reply);
    },
  };
}

function runTable(t: Tap.Test, title: string, rows: Row[]): void {
  t.test(title, async (t) => {
    for (const row of rows) {
      const s = server(row.config);
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
