// cache serve_stale's newer arguments (plugin/cache README): RESPONSE_TTL,
// FAILURE_RECHECK (immediate and verify), VERIFY_TIMEOUT and
// serve_stale_policy prefer_positive, on the cache in
// front of an in-process upstream, on a clock the rows move.
import t from 'tap';
import { CachingForwarder } from '../../../src/dns/cache/caching-forwarder.ts';
import { defaultCacheSettings } from '../../../src/dns/cache/cache-settings.ts';
import type { CacheSettings } from '../../../src/dns/cache/cache-settings.ts';
import type { Forwarder } from '../../../src/dns/forward/forwarder.ts';
import { rr } from '../../../src/dns/wire/records.ts';
import { decodeReply, query } from './dns-helpers.ts';
import { RecursiveUpstream } from './recursive-upstream.ts';

const NAME = 'www.example.com.';

function setup(serveStale: NonNullable<CacheSettings['serveStale']>, slowMs = 0, preferPositive = false) {
  let nowMs = 1_000_000;
  const up = new RecursiveUpstream();
  up.names.set(NAME, { records: { A: [rr.a(NAME, 300, '192.0.2.80')] } });
  const slow: Forwarder = { forward: (q) => new Promise((r) => setTimeout(() => r(up.forward(q)), slowMs)) };
  const stale = { served: 0 };
  const cache = new CachingForwarder(slowMs ? slow : up, { limits: { ...defaultCacheSettings(), successTtl: 30, serveStale, preferPositive }, now: () => nowMs, events: { servedStale: () => stale.served++ } });
  return {
    up,
    stale,
    /** Asks at `at` seconds; the upstream fails (SERVFAIL) while `fails`. */
    async ask(at: number, fails = false) {
      nowMs = 1_000_000 + at * 1000;
      up.failing = fails;
      const reply = await cache.forward(query(NAME, 'A'));
      // Let a refresh started in the background reach the upstream.
      await new Promise((r) => setImmediate(r));
      return decodeReply(reply!);
    },
  };
}

t.test('RESPONSE_TTL: a stale answer carries it', async (t) => {
  const s = setup({ upToS: 3600, verify: false, responseTtlS: 30 });
  await s.ask(0);
  t.strictSame((await s.ask(40)).answer, [`${NAME} 30 IN A 192.0.2.80`]);
  t.equal(s.stale.served, 1);
});

t.test('immediate FAILURE_RECHECK: a failed refresh keeps the stale entry and is not tried again until it passes', async (t) => {
  const s = setup({ upToS: 3600, verify: false, failureRecheckMs: 30_000 });
  await s.ask(0);
  t.strictSame((await s.ask(40, true)).answer, [`${NAME} 0 IN A 192.0.2.80`], 'stale, the refresh fails');
  t.equal(s.up.asked.length, 2);
  const r = await s.ask(45, true);
  t.strictSame([r.rcode, r.answer], ['NOERROR', [`${NAME} 0 IN A 192.0.2.80`]], 'still the stale entry, not the SERVFAIL');
  t.equal(s.up.asked.length, 2, 'no refresh within the recheck');
  await s.ask(71, true);
  t.equal(s.up.asked.length, 3, 'refreshed again once it passed');
  await s.ask(72, false);
  t.strictSame((await s.ask(73)).answer, [`${NAME} 0 IN A 192.0.2.80`], 'stale while rechecking after the third failure');
});

t.test('without FAILURE_RECHECK a failed immediate refresh is tried on the next query', async (t) => {
  const s = setup({ upToS: 3600, verify: false });
  await s.ask(0);
  await s.ask(40, true);
  await s.ask(45, true);
  t.ok(s.up.asked.length >= 2, `asked ${s.up.asked.length} times`);
});

t.test('verify FAILURE_RECHECK: a failed verify sends the stale entry, and the next one within the recheck is not asked', async (t) => {
  const s = setup({ upToS: 3600, verify: true, failureRecheckMs: 30_000 });
  await s.ask(0);
  t.strictSame((await s.ask(40, true)).answer, [`${NAME} 0 IN A 192.0.2.80`]);
  t.equal(s.up.asked.length, 2);
  t.strictSame((await s.ask(50, false)).answer, [`${NAME} 0 IN A 192.0.2.80`], 'stale at once within the recheck');
  t.equal(s.up.asked.length, 2);
  t.strictSame((await s.ask(71, false)).answer, [`${NAME} 30 IN A 192.0.2.80`], 'verified afresh after it');
  t.equal(s.up.asked.length, 3);
});

t.test('VERIFY_TIMEOUT: a slow upstream gets the stale entry sent, and its late answer still refreshes', async (t) => {
  const s = setup({ upToS: 3600, verify: true, verifyTimeoutMs: 10, responseTtlS: 30 }, 80);
  await s.ask(0);
  t.strictSame((await s.ask(40)).answer, [`${NAME} 30 IN A 192.0.2.80`], 'stale, with RESPONSE_TTL, after 10 ms');
  await new Promise((r) => setTimeout(r, 150));
  t.strictSame((await s.ask(40)).answer, [`${NAME} 30 IN A 192.0.2.80`], 'the late answer is the entry now');
  t.equal(s.stale.served, 1, 'served stale once');
});

t.test('VERIFY_TIMEOUT: an upstream faster than it answers fresh', async (t) => {
  const s = setup({ upToS: 3600, verify: true, verifyTimeoutMs: 500 }, 5);
  await s.ask(0);
  t.strictSame((await s.ask(40)).answer, [`${NAME} 30 IN A 192.0.2.80`]);
  t.equal(s.stale.served, 0);
});

t.test('serve_stale_policy prefer_positive (immediate): the kept answer wins over a later NXDOMAIN until past DURATION', async (t) => {
  for (const prefer of [false, true]) {
    const s = setup({ upToS: 120, verify: false }, 0, prefer);
    await s.ask(0);
    s.up.names.delete(NAME);
    t.strictSame((await s.ask(40)).answer, [`${NAME} 0 IN A 192.0.2.80`], `prefer ${prefer}: stale, the refresh gets NXDOMAIN`);
    const next = await s.ask(41);
    if (prefer) t.strictSame([next.rcode, next.answer], ['NOERROR', [`${NAME} 0 IN A 192.0.2.80`]], 'prefer_positive: still the answer');
    else t.equal(next.rcode, 'NXDOMAIN', 'without the policy: the NXDOMAIN');
    if (prefer) t.equal((await s.ask(200)).rcode, 'NXDOMAIN', 'past serve_stale DURATION the denial answers');
  }
});

t.test('serve_stale_policy prefer_positive (verify): only a refreshed answer replaces the stale one', async (t) => {
  const s = setup({ upToS: 3600, verify: true }, 0, true);
  await s.ask(0);
  s.up.names.delete(NAME);
  t.strictSame((await s.ask(40)).answer, [`${NAME} 0 IN A 192.0.2.80`], 'the upstream says NXDOMAIN: the stale answer is sent');
  t.strictSame((await s.ask(41)).answer, [`${NAME} 0 IN A 192.0.2.80`], 'and again');
  s.up.names.set(NAME, { records: { A: [rr.a(NAME, 300, '192.0.2.81')] } });
  t.strictSame((await s.ask(42)).answer, [`${NAME} 30 IN A 192.0.2.81`], 'a new answer replaces it');
});
