// The upstream socket's life cycle (src/dns/forward/upstream-socket.ts,
// upstream.ts) without a namespace: a connect that fails at once (the
// broadcast address without SO_BROADCAST: EACCES, nothing is sent) fails
// its queries at once and is replaced on next use; a retired socket closes
// when its last query settles; an idle one expires. The no-route case and the
// recovery: test/integration/dns/forward-recovery.test.ts.
import t from 'tap';
import { Upstream } from '../../../src/dns/forward/upstream.ts';
import { UpstreamSocket } from '../../../src/dns/forward/upstream-socket.ts';
import { FakeUpstream } from './fake-upstream.ts';
import { query } from './dns-helpers.ts';

const UNCONNECTABLE = { host: '255.255.255.255', port: 53, label: '255.255.255.255:53' };

t.test('a failed connect rejects every query on the socket at once, and closes it', async (t) => {
  let closed = 0;
  const sock = new UpstreamSocket(UNCONNECTABLE, () => closed++);
  const started = performance.now();
  const results = await Promise.allSettled([sock.exchange(query('a.test', 'A'), 5000), sock.exchange(query('b.test', 'A'), 5000)]);
  t.ok(performance.now() - started < 1000, 'well before the 5 s read timeout');
  t.strictSame(results.map((r) => r.status === 'rejected' && (r.reason as { code: string }).code), ['ERR_DNS_UPSTREAM_NETWORK', 'ERR_DNS_UPSTREAM_NETWORK']);
  t.equal(sock.closed, true);
  t.equal(sock.inFlight, 0);
  t.equal(closed, 1, 'the owner is told once');
  await t.rejects(sock.exchange(query('c.test', 'A'), 5000), { code: 'ERR_DNS_UPSTREAM_NETWORK' }, 'a closed socket is not used again');
});

t.test('the upstream makes a new socket after a failed one, and holds nothing', async (t) => {
  const u = new Upstream(UNCONNECTABLE, { expireMs: 10_000 });
  t.teardown(() => u.close());
  const codes = new Set<string>();
  for (let i = 0; i < 50; i++) await u.exchange(query(`q${i}.test`, 'A'), false, 5000).catch((err: { code: string }) => codes.add(err.code));
  t.strictSame([...codes], ['ERR_DNS_UPSTREAM_NETWORK'], 'each of 50 queries failed at once, as a network error');
  t.equal(u.inFlight(), 0);
  t.equal(u.hasSocket(), false, 'no dead socket kept');
});

t.test('renew: the old socket finishes its queries, the next query gets a new one; an idle socket expires', async (t) => {
  const up = new FakeUpstream('192.0.2.1');
  await up.start();
  t.teardown(() => up.stop());
  const u = new Upstream({ host: '127.0.0.1', port: up.port, label: up.label }, { expireMs: 300 });
  t.teardown(() => u.close());
  up.delayMs = 100;
  const slow = u.exchange(query('slow.test', 'A', { id: 1 }), false, 2000);
  await new Promise((r) => setTimeout(r, 20));
  u.renew();
  t.equal(u.hasSocket(), false);
  const [a, b] = await Promise.all([slow, u.exchange(query('next.test', 'A', { id: 2 }), false, 2000)]);
  t.strictSame([a.readUInt16BE(0), b.readUInt16BE(0)], [1, 2], 'both answered');
  t.equal(u.inFlight(), 0);
  t.equal(u.hasSocket(), true);
  await new Promise((r) => setTimeout(r, 1200));
  t.equal(u.hasSocket(), false, 'expired after 300 ms idle');
});
