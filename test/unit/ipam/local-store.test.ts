import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIpam } from '../../../src/ipam/index.ts';

const owner = (c: string) => ({ containerID: c, ifname: 'eth0', podNamespace: 'ns', podName: c });

t.test('allocations survive a new Ipam instance (a new plugin process)', async (t) => {
  const dir = t.testdir();
  const conf = { pools: [{ cidr: '10.0.0.0/24', blockSize: 28 }] };
  const a = await createIpam(conf, { nodeName: 'n1', dataDir: dir });
  const first = await a.allocate(owner('c0'));
  await a.allocate(owner('c1'));
  const b = await createIpam(conf, { nodeName: 'n1', dataDir: dir });
  t.same(await b.lookup({ containerID: 'c0', ifname: 'eth0' }), first, 'lookup in a fresh instance');
  t.same(await b.allocate(owner('c0')), first, 'idempotent across instances');
  t.same((await b.allocate(owner('c2')))[0].address, '10.0.0.4/28', 'round-robin cursor persisted');
  await b.release({ containerID: 'c0', ifname: 'eth0' });
  await b.release({ containerID: 'c0', ifname: 'eth0' });
  t.same(await a.lookup({ containerID: 'c0', ifname: 'eth0' }), [], 'released, twice without error');
  const saved = JSON.parse(readFileSync(join(dir, 'allocations-n1.json'), 'utf8'));
  t.same(Object.values(saved.blocks[0].allocations).map((o) => (o as { podName: string }).podName).sort(), ['c1', 'c2'], 'owners recorded with pod names');
});

t.test('GC releases leaks and gives back the emptied blocks', async (t) => {
  const dir = t.testdir();
  const ipam = await createIpam({ pools: [{ cidr: '10.0.0.0/24', blockSize: 29 }] }, { nodeName: 'n1', dataDir: dir });
  for (let i = 0; i < 7; i++) await ipam.allocate(owner(`c${i}`));
  t.same(ipam.blocks().map((b) => b.cidr), ['10.0.0.0/29', '10.0.0.8/29']);
  const n = await ipam.garbageCollect([0, 1, 2].map((i) => ({ containerID: `c${i}`, ifname: 'eth0' })));
  t.equal(n, 4, 'four leaked attachments released');
  t.same(ipam.blocks(), [{ cidr: '10.0.0.0/29', pool: '10.0.0.0/24', allocated: 3 }], 'the empty block went back');
  const claims = JSON.parse(readFileSync(join(dir, 'blocks.json'), 'utf8'));
  t.same(Object.keys(claims.blocks), ['10.0.0.0/29'], 'and its claim is gone from the claims file');
});

t.test('a corrupt state file is an error that names it and is left untouched', async (t) => {
  const dir = t.testdir({ 'allocations-n1.json': '{"version":1,"blocks":[' });
  const ipam = await createIpam({ pools: [{ cidr: '10.0.0.0/24' }] }, { nodeName: 'n1', dataDir: dir });
  await t.rejects(ipam.allocate(owner('c0')), { code: 'ERR_IPAM_STATE', message: /allocations-n1\.json.*not valid JSON/ });
  t.equal(readFileSync(join(dir, 'allocations-n1.json'), 'utf8'), '{"version":1,"blocks":[', 'file kept');
});

t.test('two nodes sharing one claims file never share a block', async (t) => {
  const dir = t.testdir();
  const blocksFile = join(dir, 'shared-blocks.json');
  const conf = (d: string) => ({ pools: [{ cidr: '10.0.0.0/24', blockSize: 28 }], blocksFile, dataDir: join(dir, d) });
  const n1 = await createIpam(conf('n1'), { nodeName: 'n1' });
  const n2 = await createIpam(conf('n2'), { nodeName: 'n2' });
  const got = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? n1 : n2).allocate(owner(`c${i}`))));
  const addrs = got.map((a) => a[0].address);
  t.equal(new Set(addrs).size, 40, 'all addresses distinct');
  const b1 = n1.blocks().map((b) => b.cidr);
  const b2 = n2.blocks().map((b) => b.cidr);
  t.same(b1.filter((b) => b2.includes(b)), [], 'no block owned by both');
});

t.test('lock timeout is a clear error', async (t) => {
  const dir = t.testdir();
  const { acquireLock } = await import('../../../src/ipam/lock.ts');
  const unlock = await acquireLock(join(dir, '.lock'), 1000);
  const ipam = await createIpam({ pools: [{ cidr: '10.0.0.0/24' }], lockTimeout: '150ms' }, { nodeName: 'n1', dataDir: dir });
  await t.rejects(ipam.allocate(owner('c0')), { code: 'ERR_IPAM_LOCK_TIMEOUT' });
  await unlock();
  t.equal((await ipam.allocate(owner('c0'))).length, 1, 'works once the holder is gone');
});
