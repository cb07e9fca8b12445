// The DNS hot path: decode a query and encode its answer, with the
// hand-written codec (src/dns/wire/) against dns2, for an A answer (one
// record) and a headless SRV answer (20 SRV + 20 A). The hand-written path is
// measured twice: with the encoded-answer cache (what a hot name costs) and
// without it (parse + resolve + encode, what a cold name costs). The hot
// path runs under kubeadm's `cache 30` (answers age: a clock read and a TTL
// patch per hit) and, as its anchor in the same run, without a `cache`.
// Run: npx node bench/dns-codec.ts [--warmup 2000]
// (--warmup: calls before each measurement; dns2's SRV case runs ~20/s under
// load, so the default warm-up alone can take a minute and a half.)

import dns2 from 'dns2';
import { parseArgs } from 'node:util';
import { ObjectStore } from '../src/k8s/store.ts';
import { ClusterDns } from '../src/dns/cluster-dns.ts';
import { defaultDnsConfig } from '../src/dns/corefile/config.ts';
import { parseQuery } from '../src/dns/wire/query.ts';
import { finishReply } from '../src/dns/wire/response.ts';
import { encodeMessage } from '../src/dns/wire/writer.ts';
import type { Namespace } from '../src/k8s/objects.ts';
import { endpoint, endpointSlice, service } from '../test/helpers/objects.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Packet = (dns2 as any).Packet;

function queryPacket(name: string, type: number): Buffer {
  const p = new Packet();
  p.header.id = 4242;
  p.header.rd = 1;
  p.questions.push({ name, type, class: 1 });
  return p.toBuffer();
}

const store = new ObjectStore();
const ns: Namespace = { kind: 'Namespace', meta: { namespace: '', name: 'shop', uid: 'u', resourceVersion: '1' } };
store.upsert(ns);
store.upsert(service('shop', 'web', { clusterIPs: ['10.96.0.20'] }));
store.upsert(service('shop', 'db', { clusterIPs: [], headless: true }));
store.upsert(endpointSlice('shop', 'db', 'db-1', Array.from({ length: 20 }, (_, i) => endpoint(`10.244.0.${i + 1}`))));
for (const k of ['Service', 'EndpointSlice', 'Namespace'] as const) store.markSynced(k);
const dns = new ClusterDns({ store, config: { ...defaultDnsConfig(), answerCacheSize: 1000 } });
dns.index.start();
const uncached = new ClusterDns({ store, config: { ...defaultDnsConfig(), answerCacheSize: 0 } });
uncached.index.start();
const noCachePlugin = new ClusterDns({ store, config: { ...defaultDnsConfig(), answerCacheSize: 1000, cache: { enabled: false, successTtl: 0, denialTtl: 0, prefetch: 0 } } });
noCachePlugin.index.start();

const cases = [
  { name: 'A, 1 record', qname: 'web.shop.svc.cluster.local', type: 1 },
  { name: 'SRV headless, 20+20 records', qname: '_http._tcp.db.shop.svc.cluster.local', type: 33 },
];

const WARMUP = Number(parseArgs({ options: { warmup: { type: 'string', default: '2000' } } }).values.warmup);

function bench(fn: () => unknown, ms = 1500): number {
  for (let i = 0; i < WARMUP; i++) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}

const rows: string[] = [];
for (const c of cases) {
  const q = queryPacket(c.qname, c.type);
  const res = dns.resolver.resolve(`${c.qname}.`, c.type);
  if (res.rcode === null) throw new Error('fixture not in zone');

  const hot = bench(() => dns.handler.handle(q, 'udp'));
  const hotNoAgeing = bench(() => noCachePlugin.handler.handle(q, 'udp'));
  const cold = bench(() => uncached.handler.handle(q, 'udp'));
  // Codec only, hand-written: parse the query, encode the resolved answer.
  const handCodec = bench(() => {
    const p = parseQuery(q);
    if (p.kind !== 'query') throw new Error('bad');
    const m = encodeMessage({
      id: p.query.id, queryFlags: p.query.flags, question: q.subarray(12, p.query.questionEnd), qname: p.query.name,
      rcode: 0, authoritative: true, answer: res.answer, authority: res.authority, additional: res.additional,
    });
    return finishReply(m, p.query, q, 65535);
  });
  // Codec only, dns2: the same records through its parser and writer.
  const toDns2 = (r: (typeof res.answer)[number]) => {
    const d = r.data;
    const base = { name: r.name.slice(0, -1), type: d.type, class: 1, ttl: r.ttl };
    if (d.type === 1 || d.type === 28) return { ...base, address: d.address };
    if (d.type === 33) return { ...base, priority: d.srv.priority, weight: d.srv.weight, port: d.srv.port, target: d.srv.target.slice(0, -1) };
    throw new Error('type not in bench');
  };
  const answers = res.answer.map(toDns2);
  const additionals = res.additional.map(toDns2);
  const dns2Codec = bench(() => {
    const req = Packet.parse(q);
    const resp = Packet.createResponseFromRequest(req);
    resp.header.aa = 1;
    resp.answers = answers;
    resp.additionals = additionals;
    return resp.toBuffer();
  });
  const size = (dns.handler.handle(q, 'udp') as Buffer).length;
  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  rows.push(`| ${c.name} (${size} B) | ${f(dns2Codec)} | ${f(handCodec)} | ${(handCodec / dns2Codec).toFixed(1)}× | ${f(cold)} | ${f(hot)} | ${f(hotNoAgeing)} | ${(hot / hotNoAgeing).toFixed(2)} |`);
}

console.log('| answer | dns2 decode+encode ops/s | hand-written decode+encode ops/s | hand/dns2 | handler, no cache ops/s | handler, encoded-answer cache ops/s (cache 30: ageing) | same, no `cache` plugin | ageing / none |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
