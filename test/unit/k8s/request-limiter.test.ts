// The client-side limits behind the Corefile's apiserver_qps, apiserver_burst
// and apiserver_max_inflight: a token bucket and a cap on requests in flight.
import t from 'tap';
import { RequestLimiter } from '../../../src/k8s/request-limiter.ts';

const tick = () => new Promise((r) => setImmediate(r));

t.test('a burst goes at once, then one request per 1/qps seconds', async (t) => {
  let now = 0;
  const limiter = new RequestLimiter({ qps: 10, burst: 3 }, () => now);
  const granted: number[] = [];
  for (let i = 0; i < 5; i++) void limiter.acquire().then((release) => (granted.push(i), release()));
  await tick();
  t.same(granted, [0, 1, 2], 'the burst of 3 at once');
  now = 50;
  await new Promise((r) => setTimeout(r, 120));
  t.same(granted, [0, 1, 2], 'half a token after 50 ms: nothing more');
  now = 100;
  await new Promise((r) => setTimeout(r, 120));
  t.same(granted, [0, 1, 2, 3], 'a whole token after 100 ms at 10 per second');
  now = 200;
  await new Promise((r) => setTimeout(r, 120));
  t.same(granted, [0, 1, 2, 3, 4]);
});

t.test('max in flight: the next request waits for a release', async (t) => {
  const limiter = new RequestLimiter({ maxInflight: 2 });
  const releases: Array<() => void> = [];
  const order: number[] = [];
  for (let i = 0; i < 4; i++) void limiter.acquire().then((release) => (order.push(i), releases.push(release)));
  await tick();
  t.same(order, [0, 1]);
  t.equal(limiter.inflight, 2);
  releases[0]();
  releases[0](); // a second release of the same slot counts once
  await tick();
  t.same(order, [0, 1, 2]);
  t.equal(limiter.inflight, 2);
  releases[1]();
  releases[2]();
  await tick();
  t.same(order, [0, 1, 2, 3]);
  t.equal(limiter.inflight, 1);
});

t.test('burst defaults to the rounded-up qps', async (t) => {
  let now = 0;
  const limiter = new RequestLimiter({ qps: 1.5 }, () => now);
  let n = 0;
  const all = Array.from({ length: 4 }, () => limiter.acquire().then((release) => (n++, release())));
  await tick();
  t.equal(n, 2);
  now = 10_000;
  await Promise.all(all);
  t.equal(n, 4, 'the rest once tokens came back');
});
