// A manifest source told to keep only some kinds (what `netlet dns` does:
// no Pods unless `pods verified` needs them) converts and keeps only those,
// and still reports every kind synced.
import t from 'tap';
import { ManifestSource } from '../../../src/k8s/manifests.ts';
import { ALL_KINDS } from '../../../src/k8s/objects.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { FIXTURE, memoryLogger } from './manifests-helpers.ts';
import { parseLabelSelector } from '../../../src/k8s/label-selector.ts';

const cases = [
  { name: 'DNS without pods', kinds: ['Service', 'EndpointSlice', 'Namespace'] as const, counts: { Service: 2, EndpointSlice: 1, Namespace: 2, Pod: 0, Node: 0 } },
  { name: 'DNS with pods verified', kinds: ['Service', 'EndpointSlice', 'Namespace', 'Pod'] as const, counts: { Service: 2, EndpointSlice: 1, Namespace: 2, Pod: 2, Node: 0 } },
  { name: 'no filter: every kind', kinds: undefined, counts: { Service: 2, EndpointSlice: 1, Namespace: 2, Pod: 2, Node: 2 } },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const store = new ObjectStore();
    const source = new ManifestSource({ dir: FIXTURE, store, log: memoryLogger().log, watch: false, kinds: c.kinds });
    t.teardown(() => source.stop());
    await source.start();
    for (const [kind, n] of Object.entries(c.counts)) t.equal(store.count(kind as keyof typeof c.counts), n, `${kind}: ${n}`);
    t.ok(store.isSynced(...ALL_KINDS), 'every kind is synced');
    t.equal(source.invalidDocuments, 0, 'a kind left out is not an invalid document');
  });
}

t.test('label selectors per kind keep only the documents they select, as an API LIST with labelSelector', async (t) => {
  const store = new ObjectStore();
  const selectors = {
    Service: parseLabelSelector('app=web'),
    EndpointSlice: parseLabelSelector('kubernetes.io/service-name in (web)'),
    Node: parseLabelSelector('topology.kubernetes.io/zone=zone-a'),
  };
  const source = new ManifestSource({ dir: FIXTURE, store, log: memoryLogger().log, watch: false, selectors });
  t.teardown(() => source.stop());
  await source.start();
  t.equal(store.count('Service'), 0, 'no Service carries app=web');
  t.equal(store.count('EndpointSlice'), 1, 'the slice labelled with its service name is kept');
  t.same([...store.list('Node')].map((n) => n.meta.name), ['n1'], 'only the node in zone-a');
  t.equal(store.count('Namespace'), 2, 'a kind without a selector keeps everything');
  t.equal(source.invalidDocuments, 0, 'a document left out is not invalid');
});
