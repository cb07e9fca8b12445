// `netlet dns --corefile` forwarding to a real upstream (dnsmasq) next to
// one that drops everything: answers, ID, TCP fallback on truncation,
// reverse-zone fallthrough, the cache and its metrics, hosts, health/ready/
// metrics over HTTP, reload. Everything on 127.0.0.1.
import t from 'tap';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../helpers/netns.ts';
import { dig, freePort, httpGet, netletBin, sample, servedPort, start, startDnsmasq } from './forward-dnsmasq.ts';
import { webServiceManifest } from './web-manifest.ts';

const MANIFEST = webServiceManifest('10.96.7.7');

const corefile = (o: { health: number; ready: number; metrics: number; good: number; bad: number; hostsLine: string }) => `.:53 {
    errors
    health 127.0.0.1:${o.health}
    ready 127.0.0.1:${o.ready}
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    hosts {
        ${o.hostsLine}
        fallthrough
    }
    prometheus 127.0.0.1:${o.metrics}
    forward . 127.0.0.1:${o.bad} 127.0.0.1:${o.good} {
        policy sequential
        health_check 100ms
    }
    cache 30
    reload 2s 1s
    loadbalance
}
`;

t.test('netlet dns forwarding to dnsmasq', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dnf-fwd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const hostsFile = join(dir, 'big.hosts');
  await writeFile(hostsFile, Array.from({ length: 100 }, (_, i) => `10.77.0.${i + 1} big.example.test`).join('\n') + '\n');
  await writeFile(join(dir, 'cluster.yaml'), MANIFEST);

  const good = await freePort();
  const upstream = await startDnsmasq(good, hostsFile);
  t.teardown(() => void upstream.child.kill('SIGKILL'));
  // The bad upstream: a socket that reads queries and never answers.
  const black = dgram.createSocket('udp4');
  await new Promise<void>((r) => black.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => black.close());
  const bad = black.address().port;
  let dropped = 0;
  black.on('message', () => dropped++);

  const ports = { health: await freePort(), ready: await freePort(), metrics: await freePort() };
  const core = join(dir, 'Corefile');
  await writeFile(core, corefile({ ...ports, good, bad, hostsLine: '10.1.2.3 foo.hosts.test' }));
  const dns = start(process.execPath, [netletBin, 'dns', '--corefile', core, '--manifests', dir, '--listen', '127.0.0.1:0']);
  t.teardown(() => void dns.child.kill('SIGKILL'));
  const port = await servedPort(dns);

  t.equal(await dig(port, '+short', 'web.default.svc.cluster.local'), '10.96.7.7', 'cluster names from the kubernetes zone');

  // The first forwarded query meets the dropping upstream first (sequential), times out on it, and is answered by dnsmasq.
  const first = await dig(port, 'a.example.test', '+time=6');
  t.match(first, /status: NOERROR/);
  t.match(first, /a\.example\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.7/, 'answered by the healthy upstream');
  t.ok(dropped >= 1, 'the bad upstream was asked and dropped it');
  const metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
  await eventually(async () => sample(await (await fetch(metricsUrl)).text(), 'coredns_forward_healthcheck_failures_total', { to: `127.0.0.1:${bad}` }) >= 2 || '', 10_000);
  await eventually(async () => (dns.log().includes('upstream marked down') ? 'yes' : ''), 10_000);
  const before = dropped;
  const quick = await dig(port, '+short', '+time=1', 'b.example.test');
  t.equal(quick, '192.0.2.7', 'with the bad upstream down, answers come at once from the good one');
  t.equal(dropped - before <= 1, true, 'the down upstream gets health checks only, not queries');

  const id = /id: (\d+)/.exec(await dig(port, 'c.example.test'))?.[1];
  t.ok(id, 'dig checked the reply ID against its query (it rejects a mismatch)');

  // dnsmasq truncates 100 addresses at its 1232-byte EDNS limit; the forwarder asks again over TCP.
  const big = await dig(port, 'big.example.test', '+bufsize=4096', '+ignore');
  t.match(big, /ANSWER: 100,/, 'all 100 addresses through UDP to us, fetched by TCP from dnsmasq');
  t.notMatch(big, /flags:[^;]* tc/, 'not truncated');

  t.equal(await dig(port, '+short', '-x', '192.0.2.7'), 'host.example.test.', 'reverse name outside the cluster ranges falls through to the forwarder');
  t.match(await dig(port, 'nope.nx.test'), /status: NXDOMAIN/, 'NXDOMAIN from upstream');

  const m1 = await (await fetch(metricsUrl)).text();
  const hits1 = sample(m1, 'coredns_cache_hits_total', { type: 'success' });
  await dig(port, '+short', 'a.example.test');
  await dig(port, '+short', 'A.EXAMPLE.test');
  const m2 = await (await fetch(metricsUrl)).text();
  t.equal(sample(m2, 'coredns_cache_hits_total', { type: 'success' }) - hits1, 2, 'repeated questions are cache hits, case-insensitively');
  t.ok(sample(m2, 'coredns_cache_entries', { type: 'success' }) >= 3, 'coredns_cache_entries');
  t.ok(sample(m2, 'coredns_cache_misses_total', {}) >= 3, 'coredns_cache_misses_total');
  t.ok(sample(m2, 'coredns_dns_requests_total', { proto: 'udp', type: 'A', zone: '.' }) >= 5, 'coredns_dns_requests_total');
  t.ok(sample(m2, 'coredns_dns_responses_total', { rcode: 'NXDOMAIN' }) >= 1, 'coredns_dns_responses_total by rcode');
  t.ok(sample(m2, 'coredns_dns_request_duration_seconds_count', { type: 'A' }) >= 5, 'coredns_dns_request_duration_seconds');
  t.ok(sample(m2, 'coredns_forward_requests_total', { to: `127.0.0.1:${good}` }) >= 3, 'coredns_forward_requests_total');
  t.ok(sample(m2, 'coredns_forward_responses_total', { to: `127.0.0.1:${good}`, rcode: 'NOERROR' }) >= 2, 'coredns_forward_responses_total');

  t.equal(await dig(port, '+short', 'foo.hosts.test'), '10.1.2.3', 'hosts answers');
  t.equal(await httpGet(`http://127.0.0.1:${ports.health}/health`), '200 OK');
  t.equal(await httpGet(`http://127.0.0.1:${ports.ready}/ready`), '200 OK');

  // reload: a new hosts line is served once the Corefile's change is seen (2 s ± 1 s).
  await writeFile(core, corefile({ ...ports, good, bad, hostsLine: '10.1.2.4 bar.hosts.test' }));
  t.equal(await eventually(async () => dig(port, '+short', '+time=1', 'bar.hosts.test').then((a) => (a === '10.1.2.4' ? a : '')), 15_000), '10.1.2.4', 'reloaded Corefile served');
  // The new server answers before the reload's log line is written (its forwarder starts in between).
  t.match(await eventually(() => (dns.log().includes('Corefile reloaded') ? dns.log() : ''), 5_000), /Corefile reloaded/);
  await writeFile(core, 'this is { not a Corefile');
  await new Promise((r) => setTimeout(r, 3500));
  t.equal(await dig(port, '+short', '+time=1', 'bar.hosts.test'), '10.1.2.4', 'a broken edit keeps the running configuration');
  t.match(dns.log(), /does not parse/);

  dns.child.kill('SIGTERM');
  t.equal(await dns.exited, 0, 'exits cleanly');
});

t.test('netlet dns refuses a Corefile with an unsupported plugin, by name', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dnf-bad-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const core = join(dir, 'Corefile');
  await writeFile(core, '.:53 {\n    errors\n    dnssec\n    forward . 127.0.0.1:9\n}\n');
  const p = start(process.execPath, [netletBin, 'dns', '--corefile', core, '--manifests', dir, '--listen', '127.0.0.1:0']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  t.not(await p.exited, 0, 'exits with an error');
  t.match(p.log(), /dnssec/, 'names the plugin');
  t.match(p.log(), /line 3/, 'and the line');
});

t.test('loop: a forwarder pointing back at us halts the server', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dnf-loop-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const core = join(dir, 'Corefile');
  await writeFile(core, `.:${port} {\n    loop\n    forward . 127.0.0.1:${port}\n}\n`);
  const p = start(process.execPath, [netletBin, 'dns', '--corefile', core, '--manifests', dir, '--listen', `127.0.0.1:${port}`]);
  t.teardown(() => void p.child.kill('SIGKILL'));
  const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
  t.equal(code, 1, 'exits with status 1');
  t.match(p.log(), /Loop \(\d+ times\) detected for \\"HINFO IN \d+\.\d+\./, 'says which probe came back (JSON log, quotes escaped)');
});
