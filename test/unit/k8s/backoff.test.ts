import t from 'tap';
import { Backoff, sleep } from '../../../src/k8s/backoff.ts';

t.test('delays double from the initial value up to the cap, jittered between d and 2d', async (t) => {
  const low = new Backoff({ initialMs: 800, maxMs: 30_000, random: () => 0 });
  t.same(Array.from({ length: 8 }, () => low.next()), [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  const high = new Backoff({ initialMs: 800, maxMs: 30_000, random: () => 0.999 });
  const d = Array.from({ length: 7 }, () => high.next());
  t.ok(d[0] > 1500 && d[0] < 1600, `first jittered delay ${d[0]}`);
  t.equal(d[6], 30_000, 'never above the cap');
});

t.test('reset starts again from the initial delay', async (t) => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  b.next();
  b.next();
  b.reset();
  t.equal(b.next(), 100);
});

t.test('bad parameters are refused', async (t) => {
  t.throws(() => new Backoff({ initialMs: 0 }), RangeError);
  t.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
});

t.test('sleep ends early when aborted', async (t) => {
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(), 20);
  await sleep(10_000, ac.signal);
  t.ok(Date.now() - started < 5000);
});
