import t from 'tap';
import { absoluteZone, defaultDnsConfig, parseListen } from '../../../src/dns/corefile/config.ts';
import { loadDnsConfig } from '../../../src/dns/load-parts.ts';
import { ConfigError } from '../../../src/base/errors.ts';

t.test('listen addresses', async (t) => {
  const rows: Array<[string, { host: string; port: number }]> = [
    ['0.0.0.0:53', { host: '0.0.0.0', port: 53 }],
    [':1053', { host: '0.0.0.0', port: 1053 }],
    ['127.0.0.1', { host: '127.0.0.1', port: 53 }],
    ['[::1]:5353', { host: '::1', port: 5353 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  ];
  for (const [text, want] of rows) t.strictSame(parseListen(text), want, text);
  t.throws(() => parseListen('127.0.0.1:99999'), ConfigError, 'port out of range');
  t.throws(() => parseListen('a:b:c'), ConfigError, 'not ADDR:PORT');
});

t.test('zones', async (t) => {
  t.equal(absoluteZone('Cluster.Local'), 'cluster.local.');
  t.equal(absoluteZone('cluster.local.'), 'cluster.local.');
  t.equal(absoluteZone('.'), '.');
});

t.test('config without a Corefile: kubeadm zones, overrides applied', async (t) => {
  const base = defaultDnsConfig();
  t.strictSame(base.zones, ['cluster.local.', 'in-addr.arpa.', 'ip6.arpa.']);
  t.strictSame(base.fallthrough, ['in-addr.arpa.', 'ip6.arpa.']);
  t.equal(base.ttl, 5, "the kubernetes plugin's own default");
  const c = await loadDnsConfig({ listen: '127.0.0.1:1053,[::1]:1053', clusterDomain: 'corp.example' });
  t.strictSame(c.listen, [{ host: '127.0.0.1', port: 1053 }, { host: '::1', port: 1053 }]);
  t.strictSame(c.zones, ['corp.example.', 'in-addr.arpa.', 'ip6.arpa.']);
  const bad = await loadDnsConfig({ corefile: '/nonexistent/Corefile' }).catch((e: unknown) => e);
  t.ok(bad instanceof ConfigError && bad.key === 'corefile', 'an unusable --corefile is a config error naming the key');
});
