// workers: 2 with several server blocks: every thread serves every block (two
// ports, two zones on one port), and the queries each thread answers are
// counted under their own block's server and zone labels, with each block's
// forward cache summed across threads.
import t from 'tap';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DnsComponent } from '../../../src/dns/component.ts';
import { syncedStore } from '../../unit/dns/dns-helpers.ts';
import { FakeUpstream } from '../../unit/dns/fake-upstream.ts';
import { clusterObjects } from '../../unit/dns/fixture.ts';
import { eventually } from '../../helpers/netns.ts';
import { askFromMany } from './ask-from-many.ts';

async function freePort(): Promise<number> {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const port = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

t.test('two threads serve three blocks on two ports, each block counted under its labels', async (t) => {
  const upstream = new FakeUpstream('192.0.2.77');
  await upstream.start();
  t.teardown(() => upstream.stop());
  const [p1, p2] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'netlet-workers-blocks-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const corefile = join(dir, 'Corefile');
  await writeFile(corefile, `.:${p1} {
  bind 127.0.0.1
  kubernetes cluster.local
}
example.org:${p1} {
  bind 127.0.0.1
  template IN A {
    answer "{{ .Name }} 60 IN A 10.5.5.5"
  }
}
stub.test:${p2} {
  bind 127.0.0.1
  cache 30
  forward . ${upstream.label}
}
`);
  const registry = new Registry();
  const dns = new DnsComponent({ log: pino({ level: 'silent' }), metrics: registry, store: syncedStore(clusterObjects()), nodeName: 'n1' }, { corefile, workers: 2 });
  await dns.start();
  t.teardown(() => dns.stop());

  const noTtl = (lines: string[]) => new Set(lines.map((l) => l.replace(/ \d+ IN /, ' IN ')));
  // 40 source ports all hashing to one thread's socket would be a 2^-40 chance: both threads answer each block.
  t.strictSame(noTtl(await askFromMany(p1, 40, 'web.default.svc.cluster.local.')), new Set(['web.default.svc.cluster.local. IN A 10.96.5.5']), 'the cluster block');
  t.strictSame(noTtl(await askFromMany(p1, 40, 'a.example.org.')), new Set(['a.example.org. IN A 10.5.5.5']), 'the example.org block on the same port');
  t.strictSame(noTtl(await askFromMany(p2, 1, 'www.stub.test.')), new Set(['www.stub.test. IN A 192.0.2.77']), 'the stub block on the other port');
  t.strictSame(noTtl(await askFromMany(p2, 40, 'www.stub.test.')), new Set(['www.stub.test. IN A 192.0.2.77']));

  const requests = (text: string, server: string, zone: string) => {
    const re = new RegExp(`^coredns_dns_requests_total\\{server="${server}",zone="${zone.replace(/\./g, '\\.')}",[^}]*\\} (\\d+)$`, 'gm');
    return [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const s1 = `dns://127.0.0.1:${p1}`;
  const s2 = `dns://127.0.0.1:${p2}`;
  await eventually(async () => {
    const text = await registry.metrics();
    return requests(text, s1, '.') === 40 && requests(text, s1, 'example.org.') === 40 && requests(text, s2, 'stub.test.') === 41;
  }, 10_000).catch(async () => t.fail(`counts never added up:\n${(await registry.metrics()).split('\n').filter((l) => l.startsWith('coredns_dns_requests_total')).join('\n')}`));
  const text = await registry.metrics();
  t.equal(requests(text, s1, '.'), 40, "the '.' block's queries, from both threads");
  t.equal(requests(text, s1, 'example.org.'), 40, 'the example.org block: its own zone label');
  t.equal(requests(text, s2, 'stub.test.'), 41, 'the stub block: its own server label');
  const cacheRequests = Number(new RegExp(`^coredns_cache_requests_total\\{server="${s2}",zones="\\.",view=""\\} (\\d+)$`, 'm').exec(text)?.[1]);
  t.equal(cacheRequests, 41, "the stub block's cache counts from both threads");
  const entries = Number(new RegExp(`^coredns_cache_entries\\{server="${s2}",type="success",zones="\\.",view=""\\} (\\d+)$`, 'm').exec(text)?.[1]);
  t.equal(entries, 2, "one entry in each thread's cache of the stub block");
});
