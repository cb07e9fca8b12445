import t from 'tap';
import { buildConfig } from '../../../src/agent/config.ts';
import { parseDuration } from '../../../src/base/config-schema.ts';

t.test('defaults follow kube-proxy', async (t) => {
  const c = buildConfig({}, { nodeName: 'n1' });
  t.equal(c.proxy.mode, 'iptables');
  t.equal(c.proxy.iptables.syncPeriod, 30_000);
  t.equal(c.proxy.iptables.minSyncPeriod, 1000);
  t.equal(c.proxy.conntrack.tcpEstablishedTimeout, 24 * 3600_000);
  t.equal(c.healthzBindAddress, '0.0.0.0:10256');
  t.equal(c.metricsBindAddress, '127.0.0.1:10249');
  t.equal(c.nodeName, 'n1');
});

t.test('routes: direct by default; vxlan with Calico\'s VNI and port unless set', async (t) => {
  t.same(buildConfig({}, { nodeName: 'n1' }).routes, { enabled: false, mode: 'direct', encapsulation: 'always', vxlan: { vni: 4096, port: 4789 } });
  const c = buildConfig({ routes: { enabled: true, mode: 'vxlan', encapsulation: 'cross-subnet', vxlan: { vni: 1, port: 8472 } } }, { nodeName: 'n1' });
  t.same(c.routes, { enabled: true, mode: 'vxlan', encapsulation: 'cross-subnet', vxlan: { vni: 1, port: 8472 } }, "flannel's port, given");
});

t.test('unknown keys are rejected by name', async (t) => {
  const rows: [string, unknown, string][] = [
    ['top level', { nodeNmae: 'x' }, 'nodeNmae'],
    ['nested', { proxy: { iptables: { syncPerod: '1s' } } }, 'proxy.iptables.syncPerod'],
    ['bad mode', { proxy: { mode: 'userspace' } }, 'proxy.mode'],
    ['bad duration', { proxy: { iptables: { syncPeriod: 'often' } } }, 'proxy.iptables.syncPeriod'],
    ['bad type', { dns: { enabled: 'yes' } }, 'dns.enabled'],
    ['unknown route mode', { routes: { mode: 'geneve' } }, 'routes.mode'],
    ['unknown encapsulation', { routes: { encapsulation: 'CrossSubnet' } }, 'routes.encapsulation'],
    ['VNI beyond 24 bits', { routes: { vxlan: { vni: 16777216 } } }, 'routes.vxlan.vni'],
    ['port 0', { routes: { vxlan: { port: 0 } } }, 'routes.vxlan.port'],
  ];
  for (const [name, doc, key] of rows) {
    t.throws(() => buildConfig(doc), { code: 'ERR_CONFIG', key }, name);
  }
});

t.test('a KubeProxyConfiguration file is taken as it is', async (t) => {
  const warned: string[] = [];
  const c = buildConfig(
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'ipvs',
      clusterCIDR: '10.244.0.0/16',
      hostnameOverride: 'worker-1',
      metricsBindAddress: '0.0.0.0:10249',
      clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf' },
      iptables: { syncPeriod: '1m0s', minSyncPeriod: '0s', masqueradeAll: true, localhostNodePorts: true },
      ipvs: { scheduler: 'lc' },
      conntrack: { maxPerCore: null },
      featureGates: {},
    },
    {},
    (k) => warned.push(k),
  );
  t.equal(c.proxy.mode, 'ipvs');
  t.equal(c.nodeName, 'worker-1');
  t.equal(c.metricsBindAddress, '0.0.0.0:10249');
  t.equal(c.kubeconfig, '/var/lib/kube-proxy/kubeconfig.conf');
  t.equal(c.proxy.iptables.syncPeriod, 60_000);
  t.equal(c.proxy.masqueradeAll, true);
  t.equal(c.proxy.ipvs.scheduler, 'lc');
  t.equal(c.proxy.conntrack.maxPerCore, 32768);
  t.ok(warned.includes('proxy.featureGates'));
  t.ok(warned.includes('proxy.iptables.localhostNodePorts'));
});

t.test('flags win over the file', async (t) => {
  const c = buildConfig({ proxy: { mode: 'ipvs' } }, { proxyMode: 'none', dns: true, nodeName: 'x' });
  t.equal(c.proxy.mode, 'none');
  t.equal(c.dns.enabled, true);
  t.throws(() => buildConfig({}, { proxyMode: 'kernelspace' }), /proxy\.mode/);
});

t.test('durations', async (t) => {
  t.equal(parseDuration('k', '1h30m'), 5_400_000);
  t.equal(parseDuration('k', '250ms'), 250);
  t.equal(parseDuration('k', '0'), 0);
  t.throws(() => parseDuration('k', '5 minutes'));
  t.throws(() => parseDuration('k', '5x'));
});
