import t from 'tap';
import type * as Tap from 'tap';
import { defaultForwardOptions } from '../../../src/dns/forward/options.ts';
import type { ForwardOptions } from '../../../src/dns/forward/options.ts';
import { UpstreamForwarder } from '../../../src/dns/forward/upstream-forwarder.ts';
import { nameserversOf, parseUpstreamAddress, resolveUpstreams } from '../../../src/dns/forward/upstream-list.ts';
import { readAnswerAddresses, buildQuery } from '../../../src/dns/wire/answer-reader.ts';
import { ConfigError } from '../../../src/base/errors.ts';
import { FakeUpstream } from './fake-upstream.ts';

const opts = (over: Partial<ForwardOptions> = {}): ForwardOptions => ({ ...defaultForwardOptions(), timeoutMs: 300, healthCheckMs: 50, ...over });

async function upstreams(t: Tap.Test, ...answers: string[]): Promise<FakeUpstream[]> {
  const list = answers.map((a) => new FakeUpstream(a));
  for (const u of list) await u.start();
  t.teardown(() => Promise.all(list.map((u) => u.stop())));
  return list;
}

function forwarder(t: Tap.Test, ups: FakeUpstream[], o: ForwardOptions, events = {}): UpstreamForwarder {
  const f = new UpstreamForwarder(ups.map((u) => parseUpstreamAddress(u.label)!), o, events);
  t.teardown(() => f.stop());
  return f;
}

const addressOf = (reply: Buffer | null) => (reply ? readAnswerAddresses(reply)?.records.map((r) => (r.data as { address: string }).address) : null);

t.test('upstream lists', async (t) => {
  t.strictSame(parseUpstreamAddress('1.2.3.4'), { host: '1.2.3.4', port: 53, label: '1.2.3.4:53' });
  t.strictSame(parseUpstreamAddress('5.6.7.8:5353'), { host: '5.6.7.8', port: 5353, label: '5.6.7.8:5353' });
  t.strictSame(parseUpstreamAddress('[::1]:53'), { host: '::1', port: 53, label: '[::1]:53' });
  t.strictSame(parseUpstreamAddress('dns://9.9.9.9'), { host: '9.9.9.9', port: 53, label: '9.9.9.9:53' });
  t.equal(parseUpstreamAddress('dns.example.com'), null, 'hostnames are not addresses');
  t.strictSame(nameserversOf('# c\nsearch x\nnameserver 10.0.0.1\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:5\n').map((a) => a.label), ['10.0.0.1:53', '[fe80::1%eth0]:53']);
  const files: Record<string, string> = { '/etc/resolv.conf': 'nameserver 10.0.0.2\n' };
  t.strictSame(resolveUpstreams(['1.2.3.4', '/etc/resolv.conf', '5.6.7.8:5353'], (p) => files[p]).map((a) => a.label), ['1.2.3.4:53', '10.0.0.2:53', '5.6.7.8:5353'], 'forward . 1.2.3.4 /etc/resolv.conf 5.6.7.8:5353');
  t.throws(() => resolveUpstreams(['/empty'], () => 'search x\n'), ConfigError, 'a resolv.conf without nameservers');
  t.throws(() => resolveUpstreams(['https://9.9.9.9']), ConfigError, 'DNS over HTTPS is refused by name');
  t.strictSame(resolveUpstreams(['tls://9.9.9.9']), [{ host: '9.9.9.9', port: 853, label: '9.9.9.9:853', tls: true }], 'DNS over TLS, port 853');
  t.throws(() => resolveUpstreams(Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`)), ConfigError, 'more than 15 upstreams');
});

t.test('the reply carries the client ID; concurrent clients with the same ID get their own answers', async (t) => {
  const [u] = await upstreams(t, '192.0.2.1');
  const f = forwarder(t, [u], opts());
  const [a, b] = await Promise.all([f.forward(buildQuery(0x4242, 'a.example.test.', 1)), f.forward(buildQuery(0x4242, 'b.example.test.', 1))]);
  t.equal(a!.readUInt16BE(0), 0x4242);
  t.equal(b!.readUInt16BE(0), 0x4242);
  t.equal(readAnswerAddresses(a!)!.records[0].name, 'a.example.test.');
  t.equal(readAnswerAddresses(b!)!.records[0].name, 'b.example.test.');
  t.not(u.seen[0].id, u.seen[1].id, 'on the wire each query had its own ID');
});

t.test('a truncated UDP reply is asked again over TCP', async (t) => {
  const [u] = await upstreams(t, '192.0.2.2');
  u.mode = 'truncate-udp';
  const f = forwarder(t, [u], opts());
  t.strictSame(addressOf(await f.forward(buildQuery(1, 'big.example.test.', 1))), ['192.0.2.2']);
  t.strictSame(u.seen.map((s) => s.proto), ['udp', 'tcp']);
});

t.test('force_tcp uses TCP only', async (t) => {
  const [u] = await upstreams(t, '192.0.2.3');
  const f = forwarder(t, [u], opts({ forceTcp: true }));
  t.strictSame(addressOf(await f.forward(buildQuery(1, 'x.example.test.', 1))), ['192.0.2.3']);
  t.strictSame(u.seen.map((s) => s.proto), ['tcp']);
});

t.test("the upstream transport follows the client's, unless force_tcp or prefer_udp", async (t) => {
  const rows: Array<{ name: string; over: Partial<ForwardOptions>; client: 'udp' | 'tcp'; want: Array<'udp' | 'tcp'> }> = [
    { name: 'UDP client, defaults: UDP', over: {}, client: 'udp', want: ['udp'] },
    { name: 'TCP client, defaults: TCP (CoreDNS forward)', over: {}, client: 'tcp', want: ['tcp'] },
    { name: 'TCP client, prefer_udp: UDP', over: { preferUdp: true }, client: 'tcp', want: ['udp'] },
    { name: 'UDP client, force_tcp: TCP', over: { forceTcp: true }, client: 'udp', want: ['tcp'] },
  ];
  for (const row of rows) {
    const [u] = await upstreams(t, '192.0.2.9');
    const f = forwarder(t, [u], opts(row.over));
    t.strictSame(addressOf(await f.forward(buildQuery(7, 'p.example.test.', 1), row.client)), ['192.0.2.9'], `${row.name}: answered`);
    t.strictSame(u.seen.map((s) => s.proto), row.want, row.name);
  }
});

t.test('a failing upstream is skipped, marked down, and brought back by health checks', async (t) => {
  const [bad, good] = await upstreams(t, '192.0.2.66', '192.0.2.10');
  bad.mode = 'drop';
  const states: string[] = [];
  const hcFailures: string[] = [];
  const f = forwarder(t, [bad, good], opts({ policy: 'sequential', maxFails: 2 }), {
    upstreamState: (to: string, down: boolean) => states.push(`${to} ${down ? 'down' : 'up'}`),
    healthcheckFailure: (to: string) => hcFailures.push(to),
  });
  t.strictSame(addressOf(await f.forward(buildQuery(1, 'a.example.test.', 1))), ['192.0.2.10'], 'answered by the healthy one');
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(f.upstreams[0].isDown(2), 'the dropping upstream is down after failed health checks');
  t.ok(hcFailures.length >= 2 && hcFailures.every((h) => h === bad.label), 'health-check failures counted for it');
  const before = bad.seen.filter((s) => s.name === 'b.example.test.').length;
  t.strictSame(addressOf(await f.forward(buildQuery(2, 'b.example.test.', 1))), ['192.0.2.10']);
  t.equal(bad.seen.filter((s) => s.name === 'b.example.test.').length, before, 'a down upstream is not asked');
  bad.mode = 'answer';
  await new Promise((r) => setTimeout(r, 400));
  t.notOk(f.upstreams[0].isDown(2), 'health check brought it back');
  t.strictSame(addressOf(await f.forward(buildQuery(3, 'c.example.test.', 1))), ['192.0.2.66'], 'sequential: first upstream again');
  t.strictSame(states, [`${bad.label} down`, `${bad.label} up`]);
});

t.test('all upstreams down: one is tried anyway, and no reply is null', async (t) => {
  const [u] = await upstreams(t, '192.0.2.1');
  u.mode = 'drop';
  let broken = 0;
  const f = forwarder(t, [u], opts({ maxFails: 1 }), { healthcheckBroken: () => broken++ });
  t.equal(await f.forward(buildQuery(1, 'a.example.test.', 1)), null);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(await f.forward(buildQuery(2, 'b.example.test.', 1)), null);
  t.ok(broken >= 1, 'counted as healthcheck broken');
  t.ok(u.seen.some((s) => s.name === 'b.example.test.'), 'the down upstream was still tried');
});

t.test('policies', async (t) => {
  const ups = await upstreams(t, '192.0.2.1', '192.0.2.2', '192.0.2.3');
  const firstAnswers = async (policy: ForwardOptions['policy'], n: number) => {
    const f = forwarder(t, ups, opts({ policy }));
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(addressOf(await f.forward(buildQuery(i, `p${i}.example.test.`, 1)))![0]);
    return out;
  };
  t.strictSame(await firstAnswers('sequential', 4), ['192.0.2.1', '192.0.2.1', '192.0.2.1', '192.0.2.1'], 'sequential: always the first');
  t.strictSame(await firstAnswers('round_robin', 4), ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1'], 'round_robin: in turn');
  const random = await firstAnswers('random', 60);
  t.equal(new Set(random).size, 3, 'random: all upstreams used');
});

t.test('max_concurrent: REFUSED above the limit, not a health failure', async (t) => {
  const [u] = await upstreams(t, '192.0.2.1');
  u.delayMs = 100;
  let rejects = 0;
  const f = forwarder(t, [u], opts({ maxConcurrent: 2 }), { maxConcurrentReject: () => rejects++ });
  const replies = await Promise.all([1, 2, 3].map((i) => f.forward(buildQuery(i, `c${i}.example.test.`, 1))));
  t.strictSame(replies.map((r) => r![3] & 0xf), [0, 0, 5], 'the third in flight is REFUSED');
  t.equal(replies[2]!.readUInt16BE(0), 3, 'with its ID');
  t.equal(rejects, 1);
  t.equal(f.upstreams[0].fails, 0);
  t.equal(f.inFlight(), 0);
});

t.test('names outside FROM are refused', async (t) => {
  const [u] = await upstreams(t, '192.0.2.1');
  const f = forwarder(t, [u], opts({ from: 'example.test.' }));
  t.equal((await f.forward(buildQuery(1, 'a.example.test.', 1)))![3] & 0xf, 0);
  t.equal((await f.forward(buildQuery(2, 'a.other.test.', 1)))![3] & 0xf, 5);
  t.equal(u.seen.length, 1);
});

t.test('failover RCODE: such a reply goes on to the next upstream; the last one stands', async (t) => {
  const [bad, good] = await upstreams(t, '192.0.2.1', '192.0.2.2');
  bad.rcode = 2; // SERVFAIL
  const f = forwarder(t, [bad, good], opts({ policy: 'sequential', failoverRcodes: [2, 5] }));
  t.strictSame(addressOf(await f.forward(buildQuery(1, 'a.example.test.', 1))), ['192.0.2.2'], 'SERVFAIL from the first: the second answers');
  good.rcode = 5; // REFUSED
  const last = await f.forward(buildQuery(2, 'b.example.test.', 1));
  t.equal(last![3] & 0xf, 5, "every upstream gave a failover rcode: the last one's reply");
  t.notOk(f.upstreams[0].isDown(2), 'a failover rcode is not a health failure');
  const plain = forwarder(t, [bad, good], opts({ policy: 'sequential' }));
  t.equal((await plain.forward(buildQuery(3, 'c.example.test.', 1)))![3] & 0xf, 2, 'without failover the SERVFAIL is the answer');
});

t.test('failfast_all_unhealthy_upstreams: SERVFAIL at once when every upstream is down', async (t) => {
  const [u] = await upstreams(t, '192.0.2.1');
  u.mode = 'drop';
  const f = forwarder(t, [u], opts({ maxFails: 1, failfastAllUnhealthy: true, healthCheckMs: 10_000 }));
  t.equal(await f.forward(buildQuery(1, 'a.example.test.', 1)), null, 'the first timeout');
  await f.forward(buildQuery(2, 'b.example.test.', 1));
  t.ok(f.upstreams[0].isDown(1), 'now down');
  const seen = u.seen.length;
  const reply = await f.forward(buildQuery(3, 'c.example.test.', 1));
  t.equal(reply![3] & 0xf, 2, 'SERVFAIL');
  t.equal(reply!.readUInt16BE(0), 3, 'with the query ID');
  t.equal(u.seen.length, seen, 'no upstream asked');
});
