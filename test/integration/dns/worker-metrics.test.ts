// workers: 2 with forward + cache: the worker thread's coredns_forward_* and
// coredns_cache_* counts are summed into the main thread's registry (:9153).
import t from 'tap';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/base/log.ts';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { loadForwarder } from '../../../src/dns/load-parts.ts';
import { dnsConfig, syncedStore } from '../../unit/dns/dns-helpers.ts';
import { FakeUpstream } from '../../unit/dns/fake-upstream.ts';
import { clusterObjects } from '../../unit/dns/fixture.ts';
import { eventually } from '../../helpers/netns.ts';
import { askFromMany } from './ask-from-many.ts';

const value = (text: string, line: string): number => {
  const m = new RegExp(`^${line.replace(/[{}().|[\]]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};

t.test("the worker thread's forward and cache metrics reach the main thread's registry", async (t) => {
  const upstream = new FakeUpstream('192.0.2.44');
  await upstream.start();
  t.teardown(() => upstream.stop());
  const registry = new Registry();
  const config = dnsConfig({ workers: 2, upstreams: [upstream.label], listen: [{ host: '127.0.0.1', port: 0 }] });
  const dns = new ClusterDns({ store: syncedStore(clusterObjects()), config, registry, forwarder: await loadForwarder(config, silentLogger, registry) });
  await dns.start();
  t.teardown(() => dns.stop());
  const port = dns.server.addresses()[0].port;

  // One name, first asked once (a miss in whichever thread gets it), then from many ports.
  const name = 'www.example.test.';
  const answers = [...(await askFromMany(port, 1, name)), ...(await askFromMany(port, 60, name))];
  // TTL 300 from the upstream, capped at 30 by the cache.
  t.strictSame(new Set(answers.map((a) => a.replace(/ \d+ IN /, ' IN '))), new Set([`${name} IN A 192.0.2.44`]), 'every query answered through the forwarder');

  const server = 'dns://127.0.0.1:0';
  await eventually(async () => value(await registry.metrics(), `coredns_cache_requests_total{server="${server}",zones=".",view=""}`) === 61, 10_000);
  const text = await registry.metrics();
  const misses = value(text, `coredns_cache_misses_total{server="${server}",zones=".",view=""}`);
  const hits = value(text, `coredns_cache_hits_total{server="${server}",zones=".",view="",type="success"}`);
  t.equal(hits + misses, 61, 'hits and misses of both threads add up to every query');
  t.equal(value(text, `coredns_forward_requests_total{to="${upstream.label}"}`), misses, 'each miss was one upstream request, wherever it happened');
  t.equal(upstream.seen.length, misses, 'as the upstream saw');
  // 60 source ports all hashing to one thread's socket would be a 2^-60 chance.
  t.equal(value(text, `coredns_cache_entries{server="${server}",type="success",zones=".",view=""}`), 2, "one entry in each thread's cache, both counted");
});
