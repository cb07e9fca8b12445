// The DNS component that both the agent and `netlet dns` run: endpoints by
// option, lameduck on stop, and reload keeping the bound port.
import t from 'tap';
import type { Test } from 'tap';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DnsComponent, kindsToWatch } from '../../../src/dns/component.ts';
import type { DnsComponentOptions } from '../../../src/dns/component.ts';
import { defaultDnsConfig } from '../../../src/dns/corefile/config.ts';
import { decodeReply, query, syncedStore } from './dns-helpers.ts';
import type { Reply } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';

/** A component over the fixture cluster, with its log lines kept as objects. */
function component(options: DnsComponentOptions, store: ObjectStore = syncedStore(clusterObjects())) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const dns = new DnsComponent({ log, metrics: new Registry(), store, nodeName: 'n1' }, options);
  const logged = (msg: string) => lines.filter((l) => l.msg === msg);
  return { dns, lines, logged };
}

async function ask(port: number, name: string): Promise<Reply> {
  const sock = dgram.createSocket('udp4');
  try {
    return await new Promise<Reply>((resolve, reject) => {
      sock.once('message', (m) => resolve(decodeReply(m)));
      sock.once('error', reject);
      sock.send(query(name, 'A'), port, '127.0.0.1');
      setTimeout(() => reject(new Error(`no reply for ${name}`)), 2000).unref();
    });
  } finally {
    sock.close();
  }
}

const servedPort = (lines: Array<Record<string, unknown>>) =>
  ((lines.findLast((l) => l.msg === 'cluster DNS serving' || l.msg === 'Corefile reloaded')?.listen as Array<{ port: number }>) ?? [])[0]?.port;
const httpPorts = (lines: Array<Record<string, unknown>>) =>
  ((lines.find((l) => l.msg === 'health, ready and metrics endpoints up')?.http as Array<{ port: number }>) ?? []).map((a) => a.port);
const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return `${res.status} ${await res.text()}`;
};

async function corefileIn(t: Test, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-dns-component-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'Corefile');
  await writeFile(file, text);
  return file;
}

t.test('without a Corefile: no endpoints for the agent, the given ones with defaultEndpoints', async (t) => {
  const agent = component({ listen: '127.0.0.1:0', clusterDomain: 'cluster.local' });
  await agent.dns.start();
  t.teardown(() => agent.dns.stop());
  t.equal((await ask(servedPort(agent.lines), 'svc1.testns.svc.cluster.local')).answer[0], 'svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1');
  t.same(agent.logged('health, ready and metrics endpoints up'), [], 'the agent opens no extra port');
  t.ok(agent.dns.healthy());
  t.ok(agent.dns.ready());

  const alone = component({ listen: '127.0.0.1:0', defaultEndpoints: true, endpoints: { health: '127.0.0.1:0', ready: '127.0.0.1:0', prometheus: '' } });
  await alone.dns.start();
  t.teardown(() => alone.dns.stop());
  const [health, ready] = httpPorts(alone.lines);
  t.equal(await get(health, '/health'), '200 OK');
  t.equal(await get(ready, '/ready'), '200 OK');
  t.equal(httpPorts(alone.lines).length, 2, "'' turns prometheus off");
});

t.test('lameduck: answers and /health go on, /ready does not, for the Corefile duration', async (t) => {
  const corefile = await corefileIn(t, '.:53 {\n  health 127.0.0.1:0 {\n    lameduck 400ms\n  }\n  ready 127.0.0.1:0\n  kubernetes cluster.local\n}\n');
  const { dns, lines, logged } = component({ corefile, listen: '127.0.0.1:0' });
  await dns.start();
  const port = servedPort(lines);
  const [health, ready] = httpPorts(lines);
  t.equal(await get(ready, '/ready'), '200 OK');
  const started = Date.now();
  const stopped = dns.stop();
  t.equal(await get(ready, '/ready'), '503 kubernetes', 'not ready during lameduck');
  t.equal(await get(health, '/health'), '200 OK', 'still healthy');
  t.equal((await ask(port, 'svc1.testns.svc.cluster.local')).rcode, 'NOERROR', 'still answering');
  await stopped;
  t.ok(Date.now() - started >= 390, 'stop waited for the lameduck');
  t.equal(logged('lameduck').length, 1);
  t.equal(dns.healthy(), false);
});

t.test('reload: the edited Corefile is served on the port already bound; a broken edit is ignored', async (t) => {
  const text = (ttl: number) => `.:53 {\n  reload 2s 1s\n  kubernetes cluster.local {\n    ttl ${ttl}\n  }\n}\n`;
  const corefile = await corefileIn(t, text(5));
  const { dns, lines, logged } = component({ corefile, listen: '127.0.0.1:0' });
  await dns.start();
  t.teardown(() => dns.stop());
  const port = servedPort(lines);
  t.match((await ask(port, 'svc1.testns.svc.cluster.local')).answer[0], / 5 IN A /);
  await writeFile(corefile, text(42));
  const deadline = Date.now() + 10_000;
  while (logged('Corefile reloaded').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(servedPort(lines), port, 'same port after the reload');
  t.match((await ask(port, 'svc1.testns.svc.cluster.local')).answer[0], / 42 IN A /, 'the new TTL');

  await writeFile(corefile, 'not { a Corefile');
  const deadline2 = Date.now() + 10_000;
  while (logged('Corefile changed but does not parse; keeping the running configuration').length === 0 && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 100));
  t.match((await ask(port, 'svc1.testns.svc.cluster.local')).answer[0], / 42 IN A /, 'the running configuration kept');
});

t.test('a start that fails on its endpoints leaves nothing open', async (t) => {
  const { createServer } = await import('node:net');
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => taken.close(r)));
  const busy = (taken.address() as { port: number }).port;
  const { dns, lines } = component({ listen: '127.0.0.1:0', defaultEndpoints: true, endpoints: { health: `127.0.0.1:${busy}`, ready: '', prometheus: '' } });
  await t.rejects(dns.start());
  t.equal(dns.healthy(), false, 'the DNS server was stopped');
  const port = servedPort(lines);
  const again = component({ listen: `127.0.0.1:${port}` });
  await again.dns.start();
  t.equal(servedPort(again.lines), port, 'its port is free again');
  await again.dns.stop();
});

t.test('kindsToWatch adds Pods when reload may turn on pods verified', async (t) => {
  t.same(kindsToWatch(defaultDnsConfig()), ['Service', 'EndpointSlice', 'Namespace']);
  t.same(kindsToWatch({ ...defaultDnsConfig(), reload: { intervalMs: 30_000, jitterMs: 15_000 } }), ['Service', 'EndpointSlice', 'Namespace', 'Pod']);
  t.same(kindsToWatch({ ...defaultDnsConfig(), pods: 'verified' }), ['Service', 'EndpointSlice', 'Namespace', 'Pod']);
});

t.test("coredns_* metrics carry the server block's port in their server label, as CoreDNS's do", async (t) => {
  // A port free on 0.0.0.0 now, for the Corefile's `.:PORT` (bound on every address, as CoreDNS would).
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '0.0.0.0', () => r()));
  const port = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const corefile = await corefileIn(t, `.:${port} {\n  kubernetes cluster.local\n  forward . 127.0.0.1:9\n  cache 30\n}\n`);
  const registry = new Registry();
  const dns = new DnsComponent({ log: pino({ level: 'silent' }), metrics: registry, store: syncedStore(clusterObjects()), nodeName: 'n1' }, { corefile });
  await dns.start();
  t.teardown(() => dns.stop());
  t.equal((await ask(port, 'svc1.testns.svc.cluster.local')).rcode, 'NOERROR');
  const text = await registry.metrics();
  t.match(text, new RegExp(`coredns_dns_requests_total\\{server="dns://:${port}",zone="\\.",`), 'requests');
  t.match(text, new RegExp(`coredns_dns_responses_total\\{server="dns://:${port}",`), 'responses');
  t.notMatch(text, /server="dns:\/\/:53"/, 'no :53 label anywhere');
});

t.test('beside another process on its address: joins once the zones are synced; a stop before that ends the wait', async (t) => {
  // The process before this one: a SO_REUSEPORT socket on the UDP port, as netlet's are.
  const before = dgram.createSocket({ type: 'udp4', reusePort: true });
  await new Promise<void>((r) => before.bind(0, '127.0.0.1', () => r()));
  let beforeOpen = true;
  t.teardown(() => void (beforeOpen && before.close()));
  const port = before.address().port;

  const never = component({ listen: `127.0.0.1:${port}` }, new ObjectStore());
  await never.dns.start();
  t.equal(never.logged('another process serves these addresses; joining it once the zones are synced').length, 1, 'a store that never syncs: waiting');
  await never.dns.stop();
  t.equal(never.dns.healthy(), false, 'a stop while waiting ends the wait (and the process can exit)');

  const store = new ObjectStore();
  for (const o of clusterObjects()) store.upsert(o);
  const joining = component({ listen: `127.0.0.1:${port}` }, store);
  await joining.dns.start();
  t.teardown(() => joining.dns.stop());
  t.equal(joining.logged('another process serves these addresses; joining it once the zones are synced').length, 1);
  t.equal(joining.dns.healthy(), false, 'not bound while the zones are not synced');
  for (const kind of ['Service', 'EndpointSlice', 'Namespace'] as const) store.markSynced(kind);
  const deadline = Date.now() + 5000;
  while (!servedPort(joining.lines) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(servedPort(joining.lines), port, 'serves beside it once synced');
  before.close();
  beforeOpen = false;
  t.equal((await ask(port, 'svc1.testns.svc.cluster.local')).rcode, 'NOERROR', 'and answers when the other one is gone');
});

t.test("the agent refuses the Corefile's API settings by name; netlet dns (ownSources) takes them", async (t) => {
  const corefile = await corefileIn(t, '. {\n  kubernetes cluster.local {\n    kubeconfig /etc/other.conf\n    labels app=web\n    apiserver_qps 5\n  }\n}\n');
  await t.rejects(component({ corefile, listen: '127.0.0.1:0' }).dns.load(), {
    key: 'dns.corefile',
    message: /'kubernetes' 'kubeconfig', 'labels', 'apiserver_qps' cannot apply in the agent: .*shares with the service proxy.*run 'netlet dns'/,
  });
  const own = await component({ corefile, listen: '127.0.0.1:0', ownSources: true }).dns.load();
  t.same([own.kubeconfig, own.api], ['/etc/other.conf', { labels: 'app=web', qps: 5 }]);
});

t.test('the agent refuses kubernetes multicluster by name (its shared store holds no ServiceImports); netlet dns takes it', async (t) => {
  const corefile = await corefileIn(t, '. {\n  kubernetes cluster.local clusterset.local {\n    multicluster clusterset.local\n  }\n}\n');
  await t.rejects(component({ corefile, listen: '127.0.0.1:0' }).dns.load(), { key: 'dns.corefile', message: /'kubernetes' 'multicluster' cannot apply in the agent/ });
  const own = await component({ corefile, listen: '127.0.0.1:0', ownSources: true }).dns.load();
  t.strictSame(own.multicluster, ['clusterset.local.']);
});

t.test('reload: a change of the API settings is not applied (it needs new watches); the running configuration stays', async (t) => {
  const text = (labels: string) => `.:53 {\n  reload 2s 1s\n  kubernetes cluster.local {\n    labels ${labels}\n  }\n}\n`;
  const corefile = await corefileIn(t, text('app=web'));
  const { dns, logged } = component({ corefile, listen: '127.0.0.1:0', ownSources: true });
  await dns.start();
  t.teardown(() => dns.stop());
  await writeFile(corefile, text('app=db'));
  const msg = "Corefile changed its 'kubernetes' API settings (kubeconfig, endpoint, tls, apiserver_*, labels, multicluster), which apply at start only; keeping the running configuration: restart to apply them";
  const deadline = Date.now() + 10_000;
  while (logged(msg).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(logged(msg).length, 1, 'said once, by name');
  t.equal(logged('Corefile reloaded').length, 0);
});

t.test('with several server blocks, each counts under its own server and zone labels', async (t) => {
  const freePort = async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const p = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    return p;
  };
  const [p1, p2] = [await freePort(), await freePort()];
  const corefile = await corefileIn(t, `.:${p1} {\n  bind 127.0.0.1\n  kubernetes cluster.local\n}\nexample.org:${p1} {\n  bind 127.0.0.1\n  template IN A {\n    answer "{{ .Name }} 60 IN A 10.5.5.5"\n  }\n}\nexample.net:${p2} {\n  bind 127.0.0.1\n  template IN A {\n    answer "{{ .Name }} 60 IN A 10.6.6.6"\n  }\n}\n`);
  const registry = new Registry();
  const dns = new DnsComponent({ log: pino({ level: 'silent' }), metrics: registry, store: syncedStore(clusterObjects()), nodeName: 'n1' }, { corefile });
  await dns.start();
  t.teardown(() => dns.stop());
  t.equal((await ask(p1, 'svc1.testns.svc.cluster.local')).rcode, 'NOERROR');
  t.equal((await ask(p1, 'a.example.org')).rcode, 'NOERROR');
  t.equal((await ask(p1, 'b.example.org')).rcode, 'NOERROR');
  t.equal((await ask(p2, 'c.example.net')).rcode, 'NOERROR');
  const text = await registry.metrics();
  const count = (server: string, zone: string) => {
    const re = new RegExp(`^coredns_dns_requests_total\\{server="${server}",zone="${zone.replace(/\./g, '\\.')}",[^}]*\\} (\\d+)$`, 'gm');
    return [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  };
  t.equal(count(`dns://127.0.0.1:${p1}`, '.'), 1, "the '.' block");
  t.equal(count(`dns://127.0.0.1:${p1}`, 'example.org.'), 2, 'the example.org block on the same port: its own zone label');
  t.equal(count(`dns://127.0.0.1:${p2}`, 'example.net.'), 1, 'the block on the other port: its own server label');
  t.match(text, new RegExp(`coredns_dns_responses_total\\{server="dns://127\\.0\\.0\\.1:${p2}",zone="example\\.net\\.",view="",rcode="NOERROR"`), 'responses too');
  t.match(text, new RegExp(`coredns_dns_request_duration_seconds_count\\{server="dns://127\\.0\\.0\\.1:${p2}",zone="example\\.net\\."`), 'and durations');
});

t.test('kubernetes startup_timeout: serves once the zones are synced, or after the timeout without them', async (t) => {
  const corefile = await corefileIn(t, '.:53 {\n  kubernetes cluster.local {\n    startup_timeout 300ms\n  }\n}\n');
  const store = new ObjectStore();
  for (const o of clusterObjects()) store.upsert(o);
  const waiting = component({ corefile, listen: '127.0.0.1:0' }, store);
  await waiting.dns.start();
  t.teardown(() => waiting.dns.stop());
  t.notOk(servedPort(waiting.lines), 'not serving while the zones are not synced');
  for (const kind of ['Service', 'EndpointSlice', 'Namespace'] as const) store.markSynced(kind);
  const deadline = Date.now() + 5000;
  while (!servedPort(waiting.lines) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const port = servedPort(waiting.lines);
  t.ok(port > 0, 'serves once synced');
  t.equal((await ask(port, 'svc1.testns.svc.cluster.local')).rcode, 'NOERROR');
  t.equal(waiting.logged('the zones are not synced after the startup timeout; serving anyway (SERVFAIL in the cluster zones until they are)').length, 0);

  const never = component({ corefile, listen: '127.0.0.1:0' }, new ObjectStore());
  await never.dns.start();
  t.teardown(() => never.dns.stop());
  const started = Date.now();
  while (!servedPort(never.lines) && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 10));
  t.ok(servedPort(never.lines) > 0, 'serves after the timeout without a sync');
  t.equal(never.logged('the zones are not synced after the startup timeout; serving anyway (SERVFAIL in the cluster zones until they are)').length, 1, 'and says so');
  t.equal((await ask(servedPort(never.lines), 'svc1.testns.svc.cluster.local')).rcode, 'SERVFAIL', 'SERVFAIL until synced, as CoreDNS');
});
