// Block claims in the (test) Kubernetes API: two nodes, each a separate
// process, racing for blocks of one pool never own the same block, and a
// node's emptied blocks are deleted from the API.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../../apiserver/server.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { createIpam } from '../../../src/ipam/index.ts';
import { blockObjectName } from '../../../src/ipam/claims-kubernetes.ts';

const WORKER = fileURLToPath(new URL('./alloc-worker.ts', import.meta.url));

function runNode(conf: unknown, node: string, count: number): Promise<{ code: number | null; stderr: string; addresses: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(conf), node, node, '0', String(count), 'parallel'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      const addresses = out.split('\n').filter((l) => l.startsWith('{')).flatMap((l) => JSON.parse(l).addresses as string[]);
      resolve({ code, stderr, addresses });
    });
  });
}

interface RawBlock {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { cidr: string; node: string; pool: string };
}

t.test('two nodes racing for blocks never share one', { timeout: 120_000 }, async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const dir = t.testdir();
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: api.url });
  // 16 blocks of 13 pod addresses; 2 × 90 allocations need 14 of them, so the nodes collide on the way.
  const conf = (node: string) => ({ datastore: 'kubernetes', kubeconfig, pools: [{ cidr: '10.30.0.0/24', blockSize: 28, name: 'pool-a' }], dataDir: join(dir, node) });
  const [n1, n2] = await Promise.all([runNode(conf('n1'), 'n1', 90), runNode(conf('n2'), 'n2', 90)]);
  t.equal(n1.code, 0, `n1 succeeded ${n1.stderr.slice(0, 300)}`);
  t.equal(n2.code, 0, `n2 succeeded ${n2.stderr.slice(0, 300)}`);
  const all = [...n1.addresses, ...n2.addresses];
  t.equal(all.length, 180, '180 addresses');
  t.equal(new Set(all).size, 180, 'all distinct across both nodes');

  const blocks = api.list('ipamblocks') as unknown as RawBlock[];
  const byNode = (n: string) => blocks.filter((b) => b.spec.node === n).map((b) => b.spec.cidr);
  t.equal(blocks.length, 14, '14 blocks claimed');
  t.same(byNode('n1').filter((c) => byNode('n2').includes(c)), [], 'no block owned by both');
  for (const b of blocks) {
    t.equal(b.metadata.name, blockObjectName(b.spec.cidr), `${b.spec.cidr} named after its CIDR`);
    t.equal(b.spec.pool, 'pool-a');
    t.equal(b.metadata.labels?.['netlet.io/node'], b.spec.node, 'owner label');
  }
  const inBlock = (addr: string, node: string) => {
    const [ip] = addr.split('/');
    const last = Number(ip.split('.')[3]);
    return byNode(node).some((c) => {
      const start = Number(c.split('/')[0].split('.')[3]);
      return last >= start && last < start + 16;
    });
  };
  t.ok(n1.addresses.every((a) => inBlock(a, 'n1')), "n1's addresses lie in n1's blocks");
  t.ok(n2.addresses.every((a) => inBlock(a, 'n2')), "n2's addresses lie in n2's blocks");
  t.ok(api.requestCount('create', 'ipamblocks') >= 14, 'each block was a create');

  // GC on n1 with nothing valid: every n1 address is released and its blocks deleted from the API.
  const ipam = await createIpam(conf('n1'), { nodeName: 'n1' });
  t.equal(await ipam.garbageCollect([]), 90, 'GC released n1\'s 90 attachments');
  const after = api.list('ipamblocks') as unknown as RawBlock[];
  t.same(after.filter((b) => b.spec.node === 'n1'), [], "n1's empty blocks are gone from the API");
  t.equal(after.length, byNode('n2').length, "n2's blocks are untouched");
  t.equal(api.requestCount('delete', 'ipamblocks'), byNode('n1').length, 'one delete per released block');

  // Someone deletes one of n2's claims by hand: n2's next GC claims it again (its pods still live there).
  const victim = byNode('n2')[0];
  api.delete('ipamblocks', '', blockObjectName(victim));
  const n2ipam = await createIpam(conf('n2'), { nodeName: 'n2' });
  const valid = Array.from({ length: 90 }, (_, i) => ({ containerID: `n2-${i}`, ifname: 'eth0' }));
  t.equal(await n2ipam.garbageCollect(valid), 0, 'nothing leaked on n2');
  const restored = (api.list('ipamblocks') as unknown as RawBlock[]).find((b) => b.spec.cidr === victim);
  t.equal(restored?.spec.node, 'n2', 'the deleted claim is back, owned by n2');
});

t.test('API failures during a claim surface as a clear error and lose nothing', { timeout: 60_000 }, async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const dir = t.testdir();
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: api.url });
  const conf = { datastore: 'kubernetes', kubeconfig, pools: [{ cidr: '10.31.0.0/24', blockSize: 28 }], dataDir: dir };
  const ipam = await createIpam(conf, { nodeName: 'n1' });
  api.failNext(1, { code: 500, verb: 'create', resource: 'ipamblocks' });
  await t.rejects(ipam.allocate({ containerID: 'c0', ifname: 'eth0', podNamespace: '', podName: '' }), { code: 'ERR_IPAM_CLAIMS', message: /claim 10\.31\.0\.0\/28 failed/ });
  t.same(await ipam.lookup({ containerID: 'c0', ifname: 'eth0' }), [], 'nothing recorded');
  const got = await ipam.allocate({ containerID: 'c0', ifname: 'eth0', podNamespace: '', podName: '' });
  t.equal(got[0].address, '10.31.0.2/28', 'the retry claims the block');
});

t.test('podCIDR mode reads the node\'s podCIDRs from its Node object', { timeout: 60_000 }, async (t) => {
  const api = await startApiServer();
  t.teardown(() => api.close());
  const dir = t.testdir();
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: api.url });
  api.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.244.7.0/24', podCIDRs: ['10.244.7.0/24', 'fd00:244:7::/64'] } });
  api.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'bare' }, spec: {} });
  const conf = { mode: 'podCIDR', datastore: 'kubernetes', kubeconfig, dataDir: dir };
  const ipam = await createIpam(conf, { nodeName: 'n1' });
  const got = await ipam.allocate({ containerID: 'c0', ifname: 'eth0', podNamespace: '', podName: '' });
  t.same(got.map((a) => [a.address, a.gateway]), [['10.244.7.2/24', '10.244.7.1'], ['fd00:244:7::2/64', 'fd00:244:7::1']]);
  const gets = api.requestCount('get', 'nodes');
  await ipam.allocate({ containerID: 'c1', ifname: 'eth0', podNamespace: '', podName: '' });
  t.equal(api.requestCount('get', 'nodes'), gets, 'the podCIDRs are kept in the state: later ADDs do not ask the API');

  const bare = await createIpam(conf, { nodeName: 'bare' });
  await t.rejects(bare.allocate({ containerID: 'c0', ifname: 'eth0', podNamespace: '', podName: '' }), { code: 'ERR_IPAM_NO_PODCIDR', message: /Node bare has no spec\.podCIDRs/ });
  const missing = await createIpam(conf, { nodeName: 'nope' });
  await t.rejects(missing.allocate({ containerID: 'c0', ifname: 'eth0', podNamespace: '', podName: '' }), { code: 'ERR_IPAM_CLAIMS', message: /reading Node nope failed/ });
});
