// The allocation state is written without a disk flush (atomic-file.ts): a
// power loss may leave it torn, and only a file torn *before* this boot is
// explained by that. Such a file means every pod it listed is gone: the node
// starts over, and its blocks come back from the claims file.
import t from 'tap';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIpam } from '../../../src/ipam/index.ts';
import { bootTime, writeFileAtomic } from '../../../src/ipam/atomic-file.ts';

const owner = (c: string) => ({ containerID: c, ifname: 'eth0', podNamespace: 'ns', podName: c });
const beforeBoot = (file: string) => {
  const s = (bootTime() - 60_000) / 1000;
  utimesSync(file, s, s);
};

const cases = [
  { name: 'empty (data never reached the disk)', text: '' },
  { name: 'zero bytes where the data should be', text: '\0'.repeat(64) },
  { name: 'cut short', text: '{"version":1,"node":"n1","blocks":[{"cidr":' },
  { name: 'valid JSON of the wrong shape', text: '{"version":1}' },
];

for (const c of cases) {
  t.test(`a state file torn before this boot, ${c.name}: the node starts over in its own blocks`, async (t) => {
    const dir = t.testdir();
    const conf = { pools: [{ cidr: '10.0.0.0/24', blockSize: 28 }] };
    const ipam = await createIpam(conf, { nodeName: 'n1', dataDir: dir });
    await ipam.allocate(owner('old0'));
    await ipam.allocate(owner('old1'));
    const file = join(dir, 'allocations-n1.json');
    writeFileSync(file, c.text);
    beforeBoot(file);
    const after = await createIpam(conf, { nodeName: 'n1', dataDir: dir });
    t.same(await after.lookup({ containerID: 'old0', ifname: 'eth0' }), [], 'the pods of the last boot hold nothing');
    const [got] = await after.allocate(owner('new0'));
    t.equal(got.block, '10.0.0.0/28', 'the claimed block is adopted again, no new one claimed');
    const claims = JSON.parse(readFileSync(join(dir, 'blocks.json'), 'utf8'));
    t.same(Object.keys(claims.blocks), ['10.0.0.0/28'], 'still one claim');
    t.same(JSON.parse(readFileSync(file, 'utf8')).blocks.length, 1, 'the state file is whole again');
  });
}

t.test('a file torn since this boot is not explained by a crash: an error, the file untouched', async (t) => {
  const dir = t.testdir({ 'allocations-n1.json': '{"version":1,"blocks":[' });
  const ipam = await createIpam({ pools: [{ cidr: '10.0.0.0/24' }] }, { nodeName: 'n1', dataDir: dir });
  await t.rejects(ipam.allocate(owner('c0')), { code: 'ERR_IPAM_STATE' });
  t.equal(readFileSync(join(dir, 'allocations-n1.json'), 'utf8'), '{"version":1,"blocks":[');
});

t.test('writeFileAtomic replaces the file whole, durable or not', async (t) => {
  const dir = t.testdir({ f: 'old' });
  writeFileAtomic(join(dir, 'f'), 'new', { durable: false });
  t.equal(readFileSync(join(dir, 'f'), 'utf8'), 'new');
  writeFileAtomic(join(dir, 'f'), 'newer');
  t.equal(readFileSync(join(dir, 'f'), 'utf8'), 'newer');
});
