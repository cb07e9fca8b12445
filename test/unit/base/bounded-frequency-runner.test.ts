import t from 'tap';
import { BoundedFrequencyRunner } from '../../../src/base/bounded-frequency-runner.ts';
import { FakeClock, settle } from '../proxier/fake-clock.ts';

function setup(min = 1000, max = 30_000) {
  const clock = new FakeClock(0);
  const runs: number[] = [];
  let gate: Promise<void> | undefined;
  const runner = new BoundedFrequencyRunner(
    async () => {
      runs.push(clock.now());
      if (gate) await gate;
    },
    { name: 'test', minIntervalMs: min, maxIntervalMs: max, clock },
  );
  return { clock, runs, runner, setGate: (g: Promise<void> | undefined) => (gate = g) };
}

t.test('runs at once on start, then every maxInterval', async (t) => {
  const { clock, runs, runner } = setup();
  runner.start();
  await clock.advance(0);
  t.same(runs, [0], 'first run immediately');
  await clock.advance(29_999);
  t.same(runs, [0], 'nothing before maxInterval');
  await clock.advance(1);
  t.same(runs, [0, 30_000], 'periodic run at maxInterval');
  await runner.stop();
});

t.test('requests are held back to minInterval and merged', async (t) => {
  const { clock, runs, runner } = setup();
  runner.start();
  await clock.advance(0);
  await clock.advance(100);
  runner.run();
  runner.run();
  runner.run();
  await clock.advance(899);
  t.same(runs, [0], 'no run before minInterval since the last one');
  await clock.advance(1);
  t.same(runs, [0, 1000], 'three requests became one run at minInterval');
  await clock.advance(5000);
  runner.run();
  await clock.advance(0);
  t.same(runs, [0, 1000, 6000], 'a request long after the last run runs at once');
  await runner.stop();
});

t.test('a request during a run causes one more run after it, not sooner than minInterval', async (t) => {
  const { clock, runs, runner, setGate } = setup();
  let release!: () => void;
  setGate(new Promise<void>((r) => (release = r)));
  runner.start();
  await clock.advance(0);
  runner.run();
  runner.run();
  await clock.advance(2000);
  t.same(runs, [0], 'no overlap while the first run is in progress');
  setGate(undefined);
  release();
  await settle();
  await clock.advance(0);
  t.same(runs, [0, 2000], 'the merged requests ran once, right after (minInterval counts from the start of the run)');
  runner.run();
  await clock.advance(999);
  t.same(runs, [0, 2000], 'the next request waits out minInterval');
  await clock.advance(1);
  t.same(runs, [0, 2000, 3000]);
  await runner.stop();
});

t.test('retryAfter keeps the soonest retry', async (t) => {
  const { clock, runs, runner } = setup();
  runner.start();
  await clock.advance(0);
  runner.retryAfter(10_000);
  runner.retryAfter(5000);
  runner.retryAfter(20_000);
  t.equal(runner.nextRunAt, 5000, 'the soonest retry is scheduled');
  await clock.advance(5000);
  t.same(runs, [0, 5000]);
  runner.retryAfter(10);
  t.equal(runner.nextRunAt, 6000, 'a retry still respects minInterval');
  await runner.stop();
});

t.test('stop cancels timers; errors do not stop the loop', async (t) => {
  const clock = new FakeClock(0);
  const errors: unknown[] = [];
  let n = 0;
  const runner = new BoundedFrequencyRunner(
    async () => {
      n++;
      throw new Error('boom');
    },
    { name: 'x', minIntervalMs: 10, maxIntervalMs: 100, clock, onError: (e) => errors.push(e) },
  );
  runner.start();
  await clock.advance(250);
  t.equal(n, 3, 'kept running every maxInterval after errors');
  t.equal(errors.length, 3);
  await runner.stop();
  await clock.advance(1000);
  t.equal(n, 3, 'no run after stop');
  t.equal(clock.nextTimerAt(), undefined, 'no timer left');
});

t.test('rejects bad intervals', async (t) => {
  t.throws(() => new BoundedFrequencyRunner(async () => {}, { name: 'x', minIntervalMs: 10, maxIntervalMs: 5 }), RangeError);
  t.throws(() => new BoundedFrequencyRunner(async () => {}, { name: 'x', minIntervalMs: -1, maxIntervalMs: 5 }), RangeError);
});
