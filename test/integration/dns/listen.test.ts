// Several listen addresses, IPv6 included.
import t from 'tap';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { sh } from '../../helpers/netns.ts';
import { dnsConfig, syncedStore } from '../../unit/dns/dns-helpers.ts';
import { clusterObjects } from '../../unit/dns/fixture.ts';

t.test('answers on 127.0.0.1 and ::1', async (t) => {
  const dns = new ClusterDns({
    store: syncedStore(clusterObjects()),
    config: dnsConfig({ listen: [{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }] }),
  });
  await dns.start();
  t.teardown(() => dns.stop());
  const [v4, v6] = dns.server.addresses();
  t.equal(v6.family, 'IPv6');
  for (const [server, port] of [['127.0.0.1', v4.port], ['::1', v6.port]] as const) {
    for (const proto of ['+notcp', '+tcp']) {
      const out = await sh('dig', [`@${server}`, '-p', String(port), proto, '+short', '+time=5', '+tries=2', 'svc1.testns.svc.cluster.local']);
      t.equal(out.trim(), '10.0.0.1', `${server} ${proto}`);
    }
  }
});
