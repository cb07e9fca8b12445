// Runs the cluster DNS server over the unit tests' fixture cluster (plus a
// headless service with many endpoints), for tests that query it with real
// clients from another process or namespace. Prints "listening PORT" once
// both sockets are bound. Usage: serve-fixture.ts HOST:PORT [WORKERS]
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { parseListen } from '../../../src/dns/corefile/config.ts';
import { dnsConfig, syncedStore } from '../../unit/dns/dns-helpers.ts';
import { clusterObjects } from '../../unit/dns/fixture.ts';
import { endpoint, endpointSlice, service } from '../../helpers/objects.ts';

export function fixtureWithManyEndpoints() {
  return [
    ...clusterObjects(),
    service('testns', 'big', { clusterIPs: [], headless: true }),
    endpointSlice('testns', 'big', 'big-a', Array.from({ length: 100 }, (_, i) => endpoint(`10.1.0.${i + 1}`))),
  ];
}

if (import.meta.main) {
  const listen = parseListen(process.argv[2] ?? '127.0.0.1:0');
  const dns = new ClusterDns({ store: syncedStore(fixtureWithManyEndpoints()), config: dnsConfig({ listen: [listen], workers: Number(process.argv[3] ?? 1) }) });
  await dns.start();
  process.stdout.write(`listening ${dns.server.addresses()[0].port}\n`);
  process.on('SIGTERM', () => void dns.stop().then(() => process.exit(0)));
}
