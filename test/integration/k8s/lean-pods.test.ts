import t from 'tap';
import { ApiClient } from '../../../src/k8s/client.ts';
import { ApiSource } from '../../../src/k8s/api-source.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import type { StoreChange } from '../../../src/k8s/store.ts';
import { Backoff } from '../../../src/k8s/backoff.ts';
import { eventually } from '../../helpers/netns.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { rawService } from './reflector-fixtures.ts';

// The API branch with lean pods (what `netlet dns --kubeconfig` runs):
// listed and watched pods hold names and IPs only, and a pod update that
// changes neither (a status change) reaches no consumer.

const rawPod = (name: string, ip: string, phase = 'Running') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', labels: { app: 'web' } },
  spec: { nodeName: 'n1', hostname: name, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
  status: { phase, podIP: ip, podIPs: [{ ip }] },
});

t.test('listed and watched pods are lean; services stay full', async (t) => {
  const server = await startApiServer();
  const client = new ApiClient({ server: server.url });
  const store = new ObjectStore();
  const changes: StoreChange[] = [];
  store.subscribe((c) => changes.push(c));
  const src = new ApiSource({
    client,
    store,
    kinds: ['Service', 'Pod'],
    lean: ['Pod'],
    reflector: { backoff: () => new Backoff({ initialMs: 50, maxMs: 300 }), stallTimeoutMs: 5000 },
  });
  t.teardown(async () => {
    await src.stop();
    await client.close();
    await server.close();
  });
  server.create(rawService('shop', 1));
  server.create(rawPod('a', '10.64.0.1'));
  await src.start();

  t.same(store.get('Pod', 'shop/a'), {
    kind: 'Pod', meta: { namespace: 'shop', name: 'a', uid: '', resourceVersion: '' },
    nodeName: '', podIPs: ['10.64.0.1'], hostNetwork: false, phase: '', hostname: '', subdomain: '',
  });
  t.not(store.get('Service', 'shop/svc-1')?.meta.uid, '', 'a service keeps its uid');

  server.create(rawPod('b', '10.64.0.2'));
  await eventually(() => store.podsByIP('10.64.0.2').length === 1, 10_000);
  const watched = store.get('Pod', 'shop/b')!;
  t.equal(watched.meta.uid, '');
  t.equal(watched.nodeName, '');

  // A status change: MODIFIED arrives, nothing kept changed, no change event.
  // The IP change after it is the marker that the first event was processed.
  changes.length = 0;
  server.apply(rawPod('b', '10.64.0.2', 'Succeeded'));
  server.apply(rawPod('a', '10.64.0.11'));
  await eventually(() => store.podsByIP('10.64.0.11').length === 1, 10_000);
  t.same(changes.map((c) => c.key), ['shop/a'], 'only the pod whose IP moved changed');
  t.same(store.get('Pod', 'shop/b'), watched, 'the unchanged pod reads back the same');

  server.delete('pods', 'shop', 'a');
  await eventually(() => store.get('Pod', 'shop/a') === undefined, 10_000);
  t.same(store.podsByIP('10.64.0.11'), []);
});
