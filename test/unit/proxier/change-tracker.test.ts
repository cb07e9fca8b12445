import t from 'tap';
import { ChangeTracker } from '../../../src/proxier/change-tracker.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { endpoint, endpointSlice, node, service } from '../../helpers/objects.ts';

function setup() {
  const store = new ObjectStore();
  let notified = 0;
  const tracker = new ChangeTracker({ onChange: () => notified++ });
  tracker.attach(store);
  return { store, tracker, notified: () => notified };
}

t.test('an added service is pending until taken', async (t) => {
  const { store, tracker, notified } = setup();
  store.upsert(service('ns', 'a'));
  t.equal(tracker.pendingServiceChanges, 1);
  t.equal(notified(), 1, 'owner was told');
  t.same([...tracker.take().services], ['ns/a']);
  t.equal(tracker.hasPending(), false, 'take starts afresh');
  t.same([...tracker.take().services], []);
});

t.test('add then delete before a sync cancels out', async (t) => {
  const { store, tracker } = setup();
  store.upsert(service('ns', 'a'));
  store.remove('Service', 'ns/a');
  t.equal(tracker.pendingServiceChanges, 0);
  t.same([...tracker.take().services], []);
});

t.test('an update undone before the sync cancels out; first previous is kept', async (t) => {
  const { store, tracker } = setup();
  const v1 = service('ns', 'a', { clusterIPs: ['10.96.0.1'] });
  store.upsert(v1);
  tracker.take();
  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.2'] }));
  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.3'] }));
  t.equal(tracker.pendingServiceChanges, 1, 'two updates merge into one entry');
  store.upsert(service('ns', 'a', { clusterIPs: ['10.96.0.1'] }));
  t.equal(tracker.pendingServiceChanges, 0, 'back to the first previous: nothing to do');
});

t.test('a new resourceVersion with the same content is no change', async (t) => {
  const { store, tracker } = setup();
  store.upsert(service('ns', 'a'));
  tracker.take();
  store.upsert(service('ns', 'a'));
  t.equal(tracker.pendingServiceChanges, 0);
});

t.test('services with service.kubernetes.io/service-proxy-name are ignored', async (t) => {
  const { store, tracker } = setup();
  store.upsert(service('ns', 'other', { serviceProxyName: 'cilium' }));
  t.equal(tracker.pendingServiceChanges, 0, 'never ours');
  store.upsert(service('ns', 'mine'));
  tracker.take();
  store.upsert(service('ns', 'mine', { serviceProxyName: 'cilium' }));
  t.same([...tracker.take().services], ['ns/mine'], 'gaining the label is a deletion for us');
});

t.test('EndpointSlice changes mark their service, merged the same way', async (t) => {
  const { store, tracker } = setup();
  const s1 = endpointSlice('ns', 'a', 'a-1', [endpoint('10.1.0.1')]);
  store.upsert(s1);
  t.equal(tracker.pendingEndpointChanges, 1);
  t.same([...tracker.take().services], ['ns/a']);
  store.upsert(endpointSlice('ns', 'a', 'a-1', [endpoint('10.1.0.2')]));
  store.upsert(endpointSlice('ns', 'a', 'a-1', [endpoint('10.1.0.1')]));
  t.equal(tracker.pendingEndpointChanges, 0, 'slice changed and changed back');
  store.upsert(endpointSlice('ns', 'a', 'a-2', [endpoint('10.1.0.3')]));
  store.remove('EndpointSlice', 'ns/a-2');
  t.equal(tracker.pendingEndpointChanges, 0, 'slice added and removed');
});

t.test('a slice moving to another service marks both', async (t) => {
  const { store, tracker } = setup();
  store.upsert(endpointSlice('ns', 'a', 'sl', [endpoint('10.1.0.1')]));
  tracker.take();
  store.upsert(endpointSlice('ns', 'b', 'sl', [endpoint('10.1.0.1')]));
  t.same([...tracker.take().services].sort(), ['ns/a', 'ns/b']);
});

t.test('trigger times are kept per service for network programming latency', async (t) => {
  const { store, tracker } = setup();
  store.upsert(endpointSlice('ns', 'a', 'a-1', [endpoint('10.1.0.1')], { triggerTimeMs: 1000 }));
  store.upsert(endpointSlice('ns', 'a', 'a-1', [endpoint('10.1.0.2')], { triggerTimeMs: 2000 }));
  const taken = tracker.take();
  t.same(taken.triggerTimes.get('ns/a'), [1000, 2000]);
});

t.test('other kinds are ignored; close stops tracking', async (t) => {
  const { store, tracker, notified } = setup();
  store.upsert(node('n1'));
  t.equal(notified(), 0);
  tracker.close();
  store.upsert(service('ns', 'late'));
  t.equal(tracker.hasPending(), false);
});
