import t from 'tap';
import { ApiError } from '../../../src/k8s/api-errors.ts';
import { KubernetesClaims, blockObjectName, IPAMBLOCKS_PATH } from '../../../src/ipam/claims-kubernetes.ts';
import type { BlockApi } from '../../../src/ipam/claims-kubernetes.ts';
import { parseCidr } from '../../../src/ipam/cidr.ts';
import type { Pool } from '../../../src/ipam/pool.ts';

const pool: Pool = { name: 'p', cidr: parseCidr('10.0.0.0/26'), blockSize: 28, disabled: false };

/** A fake API that stores objects by name and can be told a name was taken by someone else after a list. */
function fakeApi(opts: { takenAfterList?: string[] } = {}) {
  const objects = new Map<string, any>();
  const calls: string[] = [];
  let rv = 1;
  const api: BlockApi = {
    async list(path) {
      calls.push(`list ${path}`);
      return { metadata: {}, items: [...objects.values()] };
    },
    async create(path, body: any) {
      calls.push(`create ${body.metadata.name}`);
      if (opts.takenAfterList?.includes(body.metadata.name) || objects.has(body.metadata.name)) {
        throw new ApiError(409, 'AlreadyExists', `ipamblocks "${body.metadata.name}" already exists`);
      }
      const obj = { ...body, metadata: { ...body.metadata, uid: `uid-${body.metadata.name}`, resourceVersion: String(rv++) } };
      objects.set(body.metadata.name, obj);
      return obj;
    },
    async get(path) {
      const name = path.split('/').pop()!;
      calls.push(`get ${name}`);
      const o = objects.get(name);
      if (!o) throw new ApiError(404, 'NotFound', 'not found');
      return o;
    },
    async delete(path: string, pre?: { uid?: string; resourceVersion?: string }): Promise<any> {
      const name = path.split('/').pop()!;
      calls.push(`delete ${name} rv=${pre?.resourceVersion} uid=${pre?.uid}`);
      const o = objects.get(name);
      if (!o) throw new ApiError(404, 'NotFound', 'not found');
      if (pre?.resourceVersion && pre.resourceVersion !== o.metadata.resourceVersion) throw new ApiError(409, 'Conflict', 'precondition failed');
      objects.delete(name);
      return {};
    },
  };
  return { api, objects, calls };
}

t.test('object names follow the CIDR', async (t) => {
  t.equal(blockObjectName('10.244.1.64/26'), '10-244-1-64-26');
  t.equal(blockObjectName('fd00:10:244::40/122'), 'fd00-10-244--40-122');
  t.equal(IPAMBLOCKS_PATH, '/apis/netlet.io/v1/ipamblocks');
});

t.test('a 409 AlreadyExists means taken: the next block is tried', async (t) => {
  const { api, objects, calls } = fakeApi({ takenAfterList: ['10-0-0-0-28'] });
  const claims = new KubernetesClaims('n1', async () => api);
  t.same(await claims.claim([pool]), { cidr: '10.0.0.16/28', pool: 'p' });
  t.same(calls, ['list /apis/netlet.io/v1/ipamblocks', 'create 10-0-0-0-28', 'create 10-0-0-16-28']);
  t.same(objects.get('10-0-0-16-28').spec, { cidr: '10.0.0.16/28', node: 'n1', pool: 'p' });
});

t.test('blocks listed as taken are not even tried; a full pool gives null', async (t) => {
  const { api, calls } = fakeApi();
  const other = new KubernetesClaims('n2', async () => api);
  const mine = new KubernetesClaims('n1', async () => api);
  await other.claim([pool]);
  await other.claim([pool]);
  await other.claim([pool]);
  calls.length = 0;
  t.same(await mine.claim([pool]), { cidr: '10.0.0.48/28', pool: 'p' });
  t.same(calls.filter((c) => c.startsWith('create')), ['create 10-0-0-48-28'], 'one create');
  t.equal(await mine.claim([pool]), null, 'nothing left');
  t.same(await mine.owned(), [{ cidr: '10.0.0.48/28', pool: 'p' }], 'owned lists only this node\'s');
});

t.test("release deletes with a precondition, and never another node's block", async (t) => {
  const { api, objects, calls } = fakeApi();
  const n1 = new KubernetesClaims('n1', async () => api);
  const n2 = new KubernetesClaims('n2', async () => api);
  const b = (await n1.claim([pool]))!;
  t.equal(await n2.release(b), false, 'n2 cannot release n1\'s block');
  t.ok(objects.has('10-0-0-0-28'));
  t.equal(await n1.release(b), true);
  t.match(calls.at(-1), /^delete 10-0-0-0-28 rv=\d+ uid=uid-10-0-0-0-28$/, 'uid and resourceVersion preconditions');
  t.equal(await n1.release(b), false, 'already gone');
});

t.test('other API errors become ERR_IPAM_CLAIMS naming the step', async (t) => {
  const { api } = fakeApi();
  api.create = async () => {
    throw new ApiError(500, 'InternalError', 'etcdserver: request timed out');
  };
  const claims = new KubernetesClaims('n1', async () => api);
  await t.rejects(claims.claim([pool]), { code: 'ERR_IPAM_CLAIMS', message: /claim 10\.0\.0\.0\/28 failed: etcdserver: request timed out/ });
});

t.test('a 403 on a claim says RBAC, with the verb and the resource', async (t) => {
  const { api } = fakeApi();
  api.create = async () => {
    throw new ApiError(403, 'Forbidden', 'ipamblocks.netlet.io is forbidden: User "system:serviceaccount:netlet-system:netlet" cannot create resource "ipamblocks"');
  };
  const claims = new KubernetesClaims('node-a', async () => api);
  const err = await claims.claim([pool]).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
  t.equal(err?.code, 'ERR_IPAM_CLAIMS');
  t.match(err?.message, /forbidden by RBAC: create ipamblocks\.netlet\.io/);
});
