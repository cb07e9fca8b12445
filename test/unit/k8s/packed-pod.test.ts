import t from 'tap';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { convertLeanPod } from '../../../src/k8s/convert/lean.ts';
import { isPackablePod, packPod, unpackPod } from '../../../src/k8s/packed-pod.ts';
import type { Pod } from '../../../src/k8s/objects.ts';
import type { StoreChange } from '../../../src/k8s/store.ts';

const raw = (name: string, ips: string[], phase = 'Running') => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '7' },
  spec: { nodeName: 'n1' }, status: { phase, podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
});

const full = (name: string, ips: string[]): Pod => ({
  kind: 'Pod', meta: { namespace: 'shop', name, uid: `uid-${name}`, resourceVersion: '7' },
  nodeName: 'n1', podIPs: ips, hostNetwork: false, phase: 'Running', hostname: '', subdomain: '',
});

t.test('lean pods pack to their IPs and read back exactly; other pods are not packed', async (t) => {
  for (const ips of [['10.64.0.1'], ['10.64.0.2', 'fd00::2'], []]) {
    const pod = convertLeanPod(raw('a', ips));
    t.ok(isPackablePod(pod), `lean pod with ${ips.length} IPs is packable`);
    t.same(unpackPod('shop/a', packPod(pod)), pod, `and reads back the same (${ips.length} IPs)`);
  }
  t.equal(typeof packPod(convertLeanPod(raw('a', ['10.64.0.1']))), 'string', 'one IP is kept as the bare string');
  t.notOk(isPackablePod(full('a', ['10.64.0.1'])), 'a full pod (uid, node, phase) is kept whole');
});

t.test('the store holds lean pods packed and still answers every read with Pods', async (t) => {
  const store = new ObjectStore();
  const changes: StoreChange[] = [];
  store.subscribe((c) => changes.push(c));
  store.upsert(convertLeanPod(raw('a', ['10.64.0.1'])));
  store.upsert(convertLeanPod(raw('b', ['10.64.0.2', 'fd00::2'])));
  store.upsert(full('c', ['10.64.0.3']));
  t.same(store.get('Pod', 'shop/a')?.podIPs, ['10.64.0.1']);
  t.same([...store.list('Pod')].map((p) => `${p.meta.name} ${p.nodeName}`), ['a ', 'b ', 'c n1'], 'list gives packed and whole pods alike');
  t.same(store.podsByIP('fd00::2').map((p) => p.meta.name), ['b']);
  t.equal(store.count('Pod'), 3);

  changes.length = 0;
  store.upsert(convertLeanPod(raw('a', ['10.64.0.1'], 'Succeeded')));
  t.same(changes, [], 'a lean pod with the same IPs is no change (it has no resourceVersion)');
  store.upsert(convertLeanPod(raw('a', ['10.64.0.9'])));
  t.same(changes.map((c) => [c.key, c.previous && (c.previous as Pod).podIPs, c.current && (c.current as Pod).podIPs]), [['shop/a', ['10.64.0.1'], ['10.64.0.9']]], 'an IP change is one update with both sides');
  t.same(store.podsByIP('10.64.0.1'), [], 'the old IP is unindexed');

  changes.length = 0;
  store.upsert(full('a', ['10.64.0.9']));
  t.equal(store.get('Pod', 'shop/a')?.nodeName, 'n1', 'a full pod replaces a packed one');
  store.upsert(convertLeanPod(raw('a', ['10.64.0.9'])));
  t.equal(store.get('Pod', 'shop/a')?.nodeName, '', 'and a lean one replaces it back');
  t.equal(changes.length, 2);

  changes.length = 0;
  store.remove('Pod', 'shop/b');
  t.same(changes.map((c) => [c.key, (c.previous as Pod).podIPs, c.current]), [['shop/b', ['10.64.0.2', 'fd00::2'], undefined]], 'a delete carries the pod as it was');
  t.same(store.podsByIP('10.64.0.2'), []);
  store.replaceAll('Pod', [convertLeanPod(raw('a', ['10.64.0.9']))]);
  t.same([...store.list('Pod')].map((p) => p.meta.name), ['a'], 'replaceAll keeps the unchanged packed pod and drops the rest');
});
