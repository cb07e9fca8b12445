// The local store's guarantees with real processes: concurrent plugin runs
// never hand out one address twice, and a run killed with SIGKILL at any
// point leaves no duplicate, only leaks that GC reclaims.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIpam } from '../../../src/ipam/index.ts';
import { Lab, rootSkip } from '../../helpers/netns.ts';

const WORKER = fileURLToPath(new URL('./alloc-worker.ts', import.meta.url));

interface Run {
  lines: Array<{ containerID: string; addresses: string[] }>;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs one worker; `killAfterReadyMs` sends SIGKILL that long after it is ready. */
function runWorker(conf: unknown, prefix: string, start: number, count: number, killAfterReadyMs?: number, mode = 'serial', node = 'n1', netns?: string): Promise<Run> {
  return new Promise((resolve) => {
    const argv = [process.execPath, WORKER, JSON.stringify(conf), node, prefix, String(start), String(count), mode];
    const [cmd, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { lines: [], code: null, signal: null, stderr: '' };
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready') {
          if (killAfterReadyMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterReadyMs);
        } else {
          run.lines.push(JSON.parse(line));
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
    child.on('exit', (code, signal) => {
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

function stateAddresses(dir: string): string[] {
  const state = JSON.parse(readFileSync(join(dir, 'allocations-n1.json'), 'utf8'));
  const out: string[] = [];
  for (const b of state.blocks) for (const off of Object.keys(b.allocations)) out.push(`${b.cidr}#${off}`);
  return out;
}

t.test('200 concurrent allocations from 20 separate processes are 200 distinct addresses', { timeout: 300_000 }, async (t) => {
  const dir = t.testdir();
  const conf = { pools: [{ cidr: '10.10.0.0/20', blockSize: 27 }], dataDir: dir, lockTimeout: '120s' };
  // 20 processes started together, each with 10 allocations in flight at once (what 200 plugin runs
  // racing for the lock look like, without starting 200 Node processes on a 2-core machine).
  const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => runWorker(conf, `p${i}`, 0, 10, undefined, 'parallel')));
  const failed = runs.filter((r) => r.code !== 0);
  t.same(failed.map((r) => r.stderr.slice(0, 300)), [], 'every process succeeded');
  const addrs = runs.flatMap((r) => r.lines.flatMap((l) => l.addresses));
  t.equal(addrs.length, 200, '200 addresses reported');
  t.equal(new Set(addrs).size, 200, 'all distinct');
  t.equal(stateAddresses(dir).length, 200, '200 recorded in the state');
  // A /27 holds 29 pod addresses: 200 needs 7 blocks, claimed by concurrent runs without overlap.
  const claims = JSON.parse(readFileSync(join(dir, 'blocks.json'), 'utf8'));
  t.equal(Object.keys(claims.blocks).length, 7, 'exactly the 7 blocks needed were claimed');
});

t.test('SIGKILL at random points during 100 allocations: no duplicate, GC reclaims the leaks', { timeout: 600_000 }, async (t) => {
  const dir = t.testdir();
  const conf = { pools: [{ cidr: '10.20.0.0/22', blockSize: 28 }], dataDir: dir };
  const reported: Array<{ containerID: string; addresses: string[] }> = [];
  let kills = 0;
  // How long after start-up to kill, at most. An allocation takes from about a millisecond to tens of
  // milliseconds (lock, read, write, two fsyncs, rename) depending on the disk's load, so the window adapts
  // until a run gets a few allocations done before it dies: the kill then lands at a random point of one.
  let window = 20;
  // Keep going until enough kills have landed too: on a fast disk one run may finish all that is left
  // before its kill fires, so runs ask for at most 20 and the loop does not stop at 100 alone.
  for (let round = 0; (reported.length < 100 || kills < 5) && round < 150; round++) {
    const run = await runWorker(conf, `r${round}`, 0, Math.min(20, Math.max(10, 100 - reported.length)), Math.random() * window);
    reported.push(...run.lines);
    if (run.signal === 'SIGKILL') kills++;
    else t.equal(run.code, 0, `round ${round} exited cleanly: ${run.stderr.slice(0, 200)}`);
    if (run.lines.length < 2) window *= 1.5;
    else if (run.lines.length > 8) window /= 1.5;
  }
  t.ok(reported.length >= 100, `100 allocations reported (${kills} runs killed)`);
  t.ok(kills >= 5, `runs were really killed mid-way (${kills})`);

  const addrs = reported.flatMap((r) => r.addresses);
  t.equal(new Set(addrs).size, addrs.length, 'reported addresses are distinct');
  const recorded = stateAddresses(dir);
  t.equal(new Set(recorded).size, recorded.length, 'recorded addresses are distinct');
  const leaks = recorded.length - reported.length;
  t.ok(leaks >= 0, `the state holds every reported address plus ${leaks} leaked by killed runs`);

  const ipam = await createIpam(conf, { nodeName: 'n1' });
  for (const r of reported) t.same((await ipam.lookup({ containerID: r.containerID, ifname: 'eth0' })).map((a) => a.address), r.addresses, `${r.containerID} still holds its address`);
  const released = await ipam.garbageCollect(reported.map((r) => ({ containerID: r.containerID, ifname: 'eth0' })));
  t.equal(released, leaks, 'GC released exactly the leaks');
  t.equal(stateAddresses(dir).length, reported.length, 'only the reported allocations remain');
});

t.test('nodes in different network namespaces sharing one claims file never share a block', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  // The demo's nodes are namespaces on one machine: their plugin runs must exclude each other on the
  // shared claims file although they are in different network namespaces (a file lock, not a socket name).
  const lab = new Lab('ipm');
  t.teardown(() => lab.cleanup());
  const dir = t.testdir();
  const blocksFile = join(dir, 'shared-blocks.json');
  const conf = (n: string) => ({ pools: [{ cidr: '10.40.0.0/24', blockSize: 29 }], blocksFile, dataDir: join(dir, n), lockTimeout: '60s' });
  const nodes = ['n1', 'n2', 'n3'];
  const spaces = await Promise.all(nodes.map((n) => lab.netns(n)));
  // 3 nodes × 25 pods with 5 pods per /29: 15 of the 32 blocks, claimed while the other nodes claim theirs.
  const runs = await Promise.all(nodes.map((n, i) => runWorker(conf(n), n, 0, 25, undefined, 'parallel', n, spaces[i].name)));
  t.same(runs.filter((r) => r.code !== 0).map((r) => r.stderr.slice(0, 300)), [], 'every node succeeded');
  const addrs = runs.flatMap((r) => r.lines.flatMap((l) => l.addresses));
  t.equal(addrs.length, 75);
  t.equal(new Set(addrs).size, 75, 'all addresses distinct');
  const claims = JSON.parse(readFileSync(blocksFile, 'utf8')).blocks as Record<string, { node: string }>;
  t.equal(Object.keys(claims).length, 15, '15 blocks claimed, none twice');
  for (const [i, n] of nodes.entries()) {
    const mine = new Set(Object.entries(claims).filter(([, v]) => v.node === n).map(([c]) => c.split('/')[0].split('.')[3]));
    const outside = runs[i].lines.flatMap((l) => l.addresses).filter((a) => {
      const last = Number(a.split('/')[0].split('.')[3]);
      return !mine.has(String(last - (last % 8)));
    });
    t.same(outside, [], `${n}'s addresses all lie in its own blocks`);
  }
});
