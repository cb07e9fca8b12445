import t from 'tap';
import { Allocator, IpamExhaustedError } from '../../../src/ipam/allocator.ts';
import { MemoryClaims, MemoryClaimsTable } from '../../../src/ipam/claims-memory.ts';
import { PodCidrClaims } from '../../../src/ipam/claims-podcidr.ts';
import { parseCidr } from '../../../src/ipam/cidr.ts';
import type { Pool } from '../../../src/ipam/pool.ts';
import { IpamState } from '../../../src/ipam/state.ts';
import type { AllocationOwner } from '../../../src/ipam/types.ts';

const pool = (cidr: string, blockSize: number, over: Partial<Pool> = {}): Pool => ({ name: cidr, cidr: parseCidr(cidr), blockSize, disabled: false, ...over });
const owner = (c: string, ifname = 'eth0'): AllocationOwner => ({ containerID: c, ifname, podNamespace: 'default', podName: c });

async function addresses(a: Allocator, s: IpamState, c: string): Promise<string[]> {
  return (await a.allocate(s, owner(c))).value.map((x) => x.address);
}

t.test('a /29 block holds 5 pod addresses: network, gateway and broadcast are reserved', async (t) => {
  const a = new Allocator([pool('10.0.0.0/28', 29)], new MemoryClaims('n1'));
  const s = new IpamState('n1');
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push(...(await addresses(a, s, `c${i}`)));
  t.same(got, ['10.0.0.2/29', '10.0.0.3/29', '10.0.0.4/29', '10.0.0.5/29', '10.0.0.6/29']);
  const first = (await a.allocate(s, owner('c0'))).value[0];
  t.equal(first.gateway, '10.0.0.1', 'gateway is the first usable address of the block');
  t.equal(first.block, '10.0.0.0/29');
});

t.test('claims the next block when full, then runs out with a clear error', async (t) => {
  const table = new MemoryClaimsTable();
  const a = new Allocator([pool('10.0.0.0/28', 29)], new MemoryClaims('n1', table));
  const s = new IpamState('n1');
  for (let i = 0; i < 5; i++) await addresses(a, s, `c${i}`);
  t.same(await addresses(a, s, 'c5'), ['10.0.0.10/29'], 'sixth address from the second block');
  t.same([...table.blocks.keys()], ['10.0.0.0/29', '10.0.0.8/29'], 'both blocks claimed by the node');
  for (let i = 6; i < 10; i++) await addresses(a, s, `c${i}`);
  await t.rejects(a.allocate(s, owner('c10')), IpamExhaustedError, 'eleventh allocation fails');
  await t.rejects(a.allocate(s, owner('c10')), { code: 'ERR_IPAM_EXHAUSTED', message: /no free IPv4 address/ });
});

t.test("skips blocks other nodes own", async (t) => {
  const table = new MemoryClaimsTable();
  const n1 = new Allocator([pool('10.0.0.0/27', 29)], new MemoryClaims('n1', table));
  const n2 = new Allocator([pool('10.0.0.0/27', 29)], new MemoryClaims('n2', table));
  t.same(await addresses(n1, new IpamState('n1'), 'a'), ['10.0.0.2/29']);
  t.same(await addresses(n2, new IpamState('n2'), 'b'), ['10.0.0.10/29'], 'n2 gets the next block');
});

t.test('round-robin: a released address is not reused until the block wraps', async (t) => {
  const a = new Allocator([pool('10.0.0.0/29', 29)], new MemoryClaims('n1'));
  const s = new IpamState('n1');
  t.same(await addresses(a, s, 'c0'), ['10.0.0.2/29']);
  t.same(await addresses(a, s, 'c1'), ['10.0.0.3/29']);
  t.equal(a.release(s, owner('c0')).value, 1, 'release frees one address');
  t.same(await addresses(a, s, 'c2'), ['10.0.0.4/29'], 'next after the cursor, not the freed .2');
  await addresses(a, s, 'c3');
  await addresses(a, s, 'c4');
  t.same(await addresses(a, s, 'c5'), ['10.0.0.2/29'], 'wraps around to the freed address');
  t.same(a.release(s, owner('nope')), { value: 0, changed: false }, 'releasing an unknown attachment is a no-op');
});

t.test('ADD is idempotent per container and interface', async (t) => {
  const a = new Allocator([pool('10.0.0.0/24', 26)], new MemoryClaims('n1'));
  const s = new IpamState('n1');
  const first = await addresses(a, s, 'c0');
  const again = await a.allocate(s, owner('c0'));
  t.same(again.value.map((x) => x.address), first, 'same address again');
  t.equal(again.changed, false, 'nothing to persist');
  const eth1 = (await a.allocate(s, owner('c0', 'eth1'))).value[0].address;
  t.not(eth1, first[0], 'another interface of the same container gets its own address');
});

t.test('dual stack: one address per family; IPv6 blocks', async (t) => {
  const a = new Allocator([pool('10.0.0.0/24', 26), pool('fd00:10::/120', 122)], new MemoryClaims('n1'));
  const s = new IpamState('n1');
  const got = (await a.allocate(s, owner('c0'))).value;
  t.same(got.map((x) => [x.family, x.address, x.gateway]), [
    [4, '10.0.0.2/26', '10.0.0.1'],
    [6, 'fd00:10::2/122', 'fd00:10::1'],
  ]);
  // An IPv6 /122 has 64 addresses; only offsets 0 and 1 are reserved (no broadcast in IPv6).
  for (let i = 1; i < 62; i++) await a.allocate(s, owner(`c${i}`));
  const next = (await a.allocate(s, owner('c62'))).value.find((x) => x.family === 6);
  t.equal(next?.address, 'fd00:10::42/122', 'the 63rd IPv6 address comes from the second block');
  const v4 = (await a.allocate(s, owner('c62'))).value.find((x) => x.family === 4);
  t.equal(v4?.block, '10.0.0.64/26', 'IPv4 /26 holds 61, so the 62nd went to the second block too');
});

t.test('garbage collection keeps only valid attachments', async (t) => {
  const a = new Allocator([pool('10.0.0.0/24', 26)], new MemoryClaims('n1'));
  const s = new IpamState('n1');
  for (const c of ['keep1', 'leak1', 'keep2', 'leak2']) await addresses(a, s, c);
  const r = a.garbageCollect(s, [owner('keep1'), owner('keep2'), owner('not-allocated')]);
  t.equal(r.value, 2, 'two leaked attachments released');
  t.same(s.attachments().map((x) => x.containerID).sort(), ['keep1', 'keep2']);
  t.same(a.garbageCollect(s, [owner('keep1'), owner('keep2')]), { value: 0, changed: false }, 'a second GC finds nothing');
});

t.test("a node's empty blocks are given back", async (t) => {
  const table = new MemoryClaimsTable();
  const a = new Allocator([pool('10.0.0.0/28', 29)], new MemoryClaims('n1', table));
  const s = new IpamState('n1');
  for (let i = 0; i < 6; i++) await addresses(a, s, `c${i}`);
  a.release(s, owner('c5'));
  const r = await a.releaseEmptyBlocks(s);
  t.same(r.value, ['10.0.0.8/29'], 'the emptied second block is released');
  t.same([...table.blocks.keys()], ['10.0.0.0/29'], 'its claim is gone');
  t.same(s.blocks.map((b) => b.cidrText), ['10.0.0.0/29']);
});

t.test('adopts a block the node owns but never recorded (a run killed after claiming)', async (t) => {
  const table = new MemoryClaimsTable();
  table.blocks.set('10.0.0.8/29', { node: 'n1', pool: '10.0.0.0/28' });
  const a = new Allocator([pool('10.0.0.0/28', 29)], new MemoryClaims('n1', table));
  t.same(await addresses(a, new IpamState('n1'), 'c0'), ['10.0.0.10/29'], 'allocates from the adopted block, claims nothing new');
  t.equal(table.blocks.size, 1);
});

t.test('disabled pools hand out nothing new', async (t) => {
  const table = new MemoryClaimsTable();
  const s = new IpamState('n1');
  const before = new Allocator([pool('10.0.0.0/24', 26), pool('10.1.0.0/24', 26)], new MemoryClaims('n1', table));
  t.same(await addresses(before, s, 'c0'), ['10.0.0.2/26']);
  const after = new Allocator([pool('10.0.0.0/24', 26, { disabled: true }), pool('10.1.0.0/24', 26)], new MemoryClaims('n1', table));
  t.same(await addresses(after, s, 'c1'), ['10.1.0.2/26'], 'the disabled pool\'s block is skipped');
  t.same((await after.allocate(s, owner('c0'))).value.map((x) => x.address), ['10.0.0.2/26'], 'existing allocations stay');
  const none = new Allocator([pool('10.0.0.0/24', 26, { disabled: true })], new MemoryClaims('n1', table));
  t.same((await none.allocate(new IpamState('n1'), owner('x'))).value, [], 'no enabled pool: no family to allocate');
});

t.test('podCIDR mode allocates from the given podCIDRs only', async (t) => {
  const a = new Allocator([], new PodCidrClaims(async () => ['10.244.3.0/29', 'fd00:3::/64']));
  const s = new IpamState('n1');
  const got = (await a.allocate(s, owner('c0'))).value;
  t.same(got.map((x) => x.address), ['10.244.3.2/29', 'fd00:3::2/64']);
  for (let i = 1; i < 5; i++) await a.allocate(s, owner(`c${i}`));
  await t.rejects(a.allocate(s, owner('c5')), { code: 'ERR_IPAM_EXHAUSTED', message: /podCIDR/ }, 'the /29 is full after 5');
  t.same((await a.releaseEmptyBlocks(s)).value, [], 'podCIDR blocks are never released');
});

t.test('verifyBlocks: a deleted claim is taken again, a block another node took is lost', async (t) => {
  const table = new MemoryClaimsTable();
  const a = new Allocator([pool('10.0.0.0/27', 29)], new MemoryClaims('n1', table));
  const s = new IpamState('n1');
  for (let i = 0; i < 11; i++) await addresses(a, s, `c${i}`);
  t.same([...table.blocks.keys()], ['10.0.0.0/29', '10.0.0.8/29', '10.0.0.16/29']);
  a.release(s, owner('c10'));
  table.blocks.delete('10.0.0.0/29'); // deleted by hand
  table.blocks.set('10.0.0.8/29', { node: 'n2', pool: '10.0.0.0/27' }); // and given to another node
  table.blocks.delete('10.0.0.16/29'); // our third block, empty now: nothing to keep

  const r = await a.verifyBlocks(s);
  t.same(r.value, { reclaimed: ['10.0.0.0/29'], lost: ['10.0.0.8/29', '10.0.0.16/29'] });
  t.same(table.blocks.get('10.0.0.0/29'), { node: 'n1', pool: '10.0.0.0/27' }, 'the free block is ours again');

  for (let i = 0; i < 5; i++) a.release(s, owner(`c${i}`));
  t.same(await addresses(a, s, 'new'), ['10.0.0.2/29'], 'new addresses never come from the lost block');
  t.same((await a.allocate(s, owner('c5'))).value.map((x) => x.block), ['10.0.0.8/29'], 'pods in the lost block keep their address');
  for (let i = 5; i < 10; i++) a.release(s, owner(`c${i}`));
  const released = await a.releaseEmptyBlocks(s);
  t.same(released.value, ['10.0.0.8/29', '10.0.0.16/29'], 'the emptied lost blocks are dropped');
  t.same(table.blocks.get('10.0.0.8/29'), { node: 'n2', pool: '10.0.0.0/27' }, "without touching n2's claim");
});
