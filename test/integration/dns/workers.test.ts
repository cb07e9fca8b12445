// workers: 2 — a second thread answers on the same port (SO_REUSEPORT) from
// its own mirror of the store, and follows the store's changes.
import t from 'tap';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { dnsConfig, syncedStore } from '../../unit/dns/dns-helpers.ts';
import { clusterObjects } from '../../unit/dns/fixture.ts';
import { service } from '../../helpers/objects.ts';
import { eventually } from '../../helpers/netns.ts';
import { askFromMany } from './ask-from-many.ts';

t.test('two threads answer on one port and both follow the store', async (t) => {
  const store = syncedStore(clusterObjects());
  let observed = 0;
  const dns = new ClusterDns({ store, config: dnsConfig({ workers: 2 }), observe: () => observed++ });
  await dns.start();
  t.teardown(() => dns.stop());
  const port = dns.server.addresses()[0].port;
  const name = 'web.default.svc.cluster.local.';

  // TTLs left out: under cache 30 they count down while the test runs.
  const noTtl = (lines: string[]) => lines.map((l) => l.replace(/ \d+ IN /, ' IN '));
  const before = noTtl(await askFromMany(port, 40, name));
  t.strictSame(new Set(before), new Set([`${name} IN A 10.96.5.5`]), 'every socket got the answer');

  store.upsert(service('default', 'web', { clusterIPs: ['10.96.5.6'] }));
  // 40 source ports all hashing to the main thread's socket would be a 2^-40 chance:
  // a worker that missed the change would show up here.
  await eventually(async () => {
    const after = noTtl(await askFromMany(port, 40, name));
    return after.every((a) => a === `${name} IN A 10.96.5.6`);
  }, 20_000);
  t.pass('every thread answers the new address');
  await eventually(() => observed >= 80, 10_000);
  t.ok(observed >= 80, `observations from both threads reached the hook (${observed})`);
});
