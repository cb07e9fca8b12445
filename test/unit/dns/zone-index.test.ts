// The zone index is built once and then patched per change: a change to one
// service recomputes that service's names only.
import t from 'tap';
import { ZoneIndex } from '../../../src/dns/zone/zone-index.ts';
import { endpoint, endpointSlice, service } from '../../helpers/objects.ts';
import { syncedStore } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import { ask, inProcessDns } from './dns-helpers.ts';

t.test('a change recomputes only the affected service', async (t) => {
  const store = syncedStore(clusterObjects());
  const calls: string[] = [];
  const original = store.endpointSlicesFor.bind(store);
  store.endpointSlicesFor = (key: string) => {
    calls.push(key);
    return original(key);
  };
  const index = new ZoneIndex(store, { endpointPodNames: false, podsVerified: false });
  let changes = 0;
  index.onChange(() => changes++);
  index.start();
  t.equal(calls.length, store.count('Service'), 'the first build visits every service once');
  calls.length = 0;
  changes = 0;

  store.upsert(endpointSlice('testns', 'hdls1', 'hdls1-v4', [endpoint('172.0.0.7')], { ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }));
  t.strictSame(calls, ['testns/hdls1'], 'a slice change recomputes its service only');
  t.equal(changes, 1);
  t.strictSame([...(index.name('hdls1.testns.svc')?.addresses ?? [])].sort(), ['172.0.0.7', '5678:abcd::1', '5678:abcd::2']);
  t.equal(index.name('172-0-0-2.hdls1.testns.svc'), undefined, 'the old endpoint names are gone');
  t.strictSame(index.ptr('172.0.0.2'), [], 'and their PTRs');

  calls.length = 0;
  // A slice moving from one service to another recomputes both.
  store.upsert(endpointSlice('testns', 'svc1', 'hdls1-v4', [endpoint('172.0.0.7')]));
  t.strictSame(calls.sort(), ['testns/hdls1', 'testns/svc1']);

  calls.length = 0;
  store.upsert(service('testns', 'svc1', { clusterIPs: ['10.0.0.11'] }));
  t.strictSame(calls, ['testns/svc1'], 'a service change recomputes that service');
  t.strictSame(index.ptr('10.0.0.1'), [], 'the old ClusterIP PTR is gone');
  t.strictSame(index.ptr('10.0.0.11'), ['svc1.testns.svc']);
});

t.test('an endpoint behind two services has a PTR for each', async (t) => {
  const store = syncedStore([
    ...clusterObjects(),
    service('testns', 'a', { clusterIPs: [], headless: true }),
    service('testns', 'b', { clusterIPs: [], headless: true }),
    endpointSlice('testns', 'a', 'a-1', [endpoint('172.5.0.1', { hostname: 'x' })]),
    endpointSlice('testns', 'b', 'b-1', [endpoint('172.5.0.1', { hostname: 'x' })]),
  ]);
  const index = new ZoneIndex(store, { endpointPodNames: false, podsVerified: false });
  index.start();
  t.strictSame(index.ptr('172.5.0.1').sort(), ['x.a.testns.svc', 'x.b.testns.svc']);
  store.remove('Service', 'testns/a');
  t.strictSame(index.ptr('172.5.0.1'), ['x.b.testns.svc'], 'removing one service keeps the other PTR');
});

t.test('endpoint_pod_names names endpoints after their pod', async (t) => {
  const objects = [
    ...clusterObjects(),
    service('testns', 'sts', { clusterIPs: [], headless: true }),
    endpointSlice('testns', 'sts', 'sts-1', [endpoint('172.6.0.1', { targetPod: { namespace: 'testns', name: 'sts-pod-0' } })]),
  ];
  const on = inProcessDns(syncedStore(objects), { endpointPodNames: true });
  t.strictSame((await ask(on, 'sts-pod-0.sts.testns.svc.cluster.local.', 'A')).answer, ['sts-pod-0.sts.testns.svc.cluster.local. 5 IN A 172.6.0.1']);
  const off = inProcessDns(syncedStore(objects));
  t.equal((await ask(off, 'sts-pod-0.sts.testns.svc.cluster.local.', 'A')).rcode, 'NXDOMAIN');
  t.equal((await ask(off, '172-6-0-1.sts.testns.svc.cluster.local.', 'A')).answer.length, 1);
});
