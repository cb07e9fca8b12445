// The proxy mode registry: each mode's backend module with the options of its
// own config section; modes netlet has no backend for are refused by key.
import t from 'tap';
import { buildConfig } from '../../../src/agent/config.ts';
import { configuredBackend, proxyBackendKind, runnableModes } from '../../../src/agent/proxy-backends.ts';
import { silentLogger } from '../../../src/base/log.ts';

const env = { log: silentLogger };

t.test('iptables: the sync periods of proxy.iptables', async (t) => {
  const config = buildConfig({ proxy: { iptables: { minSyncPeriod: '2s', syncPeriod: '40s', fullSyncPeriod: '2h' }, ipvs: { minSyncPeriod: '9s', syncPeriod: '9m' } } }, { nodeName: 'n' });
  t.same((await configuredBackend(config, env))?.periods, { minSyncPeriod: 2000, syncPeriod: 40_000, fullSyncPeriod: 7_200_000 });
  t.same((await configuredBackend(buildConfig({}, { nodeName: 'n' }), env))?.periods, { minSyncPeriod: 1000, syncPeriod: 30_000, fullSyncPeriod: 3_600_000 }, "kube-proxy's defaults");
});

t.test('mode none: no backend', async (t) => {
  t.equal(await configuredBackend(buildConfig({ proxy: { mode: 'none' } }, { nodeName: 'n' }), env), undefined);
});

t.test("mode ipvs: kube-proxy's ipvs section, checked at configure", async (t) => {
  const config = buildConfig(
    { kind: 'KubeProxyConfiguration', mode: 'ipvs', ipvs: { minSyncPeriod: '2s', syncPeriod: '45s', scheduler: 'mh', excludeCIDRs: ['192.168.50.0/24'], strictARP: true, tcpTimeout: '15m', tcpFinTimeout: '30s', udpTimeout: '10s' } },
    { nodeName: 'n' },
  );
  const configured = await configuredBackend(config, env);
  t.same(configured?.periods, { minSyncPeriod: 2000, syncPeriod: 45_000, fullSyncPeriod: 45_000 }, 'every sync period is a full comparison, as kube-proxy');
  t.equal(buildConfig({ proxy: { ipvs: { scheduler: '' } } }, { nodeName: 'n' }).proxy.ipvs.scheduler, 'rr', '"" means rr');
  t.equal(buildConfig({}, { nodeName: 'n', proxyMode: 'ipvs' }).proxy.mode, 'ipvs', '--proxy-mode ipvs');
  await t.rejects(configuredBackend(buildConfig({ proxy: { mode: 'ipvs', ipvs: { scheduler: 'roundrobin' } } }, { nodeName: 'n' }), env), {
    code: 'ERR_CONFIG',
    key: 'proxy.ipvs.scheduler',
    message: /unknown IPVS scheduler "roundrobin"/,
  });
  await t.rejects(configuredBackend(buildConfig({ proxy: { mode: 'ipvs', ipvs: { excludeCIDRs: ['nope'] } } }, { nodeName: 'n' }), env), { code: 'ERR_CONFIG', key: 'proxy.ipvs.excludeCIDRs' });
  await t.rejects(proxyBackendKind('userspace'), { code: 'ERR_CONFIG', message: /no "userspace" backend; use iptables/ });
});

t.test('mode ipvs on a kernel without IPVS: a clear error naming the modules', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async (t) => {
  const { existsSync } = await import('node:fs');
  if (existsSync('/proc/net/ip_vs')) {
    t.pass('this kernel has IPVS: the error is checked where it has none');
    return;
  }
  const configured = await configuredBackend(buildConfig({ proxy: { mode: 'ipvs' } }, { nodeName: 'n' }), env);
  await t.rejects(Promise.resolve(configured!.create(4)), { code: 'ERR_IPVS', message: /the kernel has no IPVS.*modprobe -a ip_vs ip_vs_rr/s });
});

t.test('the modes netlet runs (cleanup cleans each)', async (t) => {
  t.same(runnableModes(), ['iptables', 'nftables', 'ipvs'], 'ipvs last: the chains matching its sets go first');
});

t.test("nftables: the sync periods of proxy.nftables, kube-proxy's nftables section read as it is", async (t) => {
  const config = buildConfig({ kind: 'KubeProxyConfiguration', mode: 'nftables', nftables: { minSyncPeriod: '3s', syncPeriod: '45s', masqueradeAll: true, masqueradeBit: 12 } }, { nodeName: 'n' });
  t.equal(config.proxy.mode, 'nftables');
  t.equal(config.proxy.masqueradeAll, true, 'nftables.masqueradeAll is proxy.masqueradeAll');
  t.same((await configuredBackend(config, env))?.periods, { minSyncPeriod: 3000, syncPeriod: 45_000, fullSyncPeriod: 3_600_000 });
  t.equal(buildConfig({}, { nodeName: 'n', proxyMode: 'nftables' }).proxy.mode, 'nftables', '--proxy-mode nftables');
  const backend = await (await configuredBackend(config, env))!.create(4);
  t.equal(backend.name, 'nftables');
});

t.test('iptables trace: rules given as iptables-save text; a bad --mode is a usage error', async (t) => {
  const iptables = await proxyBackendKind('iptables');
  const rulesText = ['*nat', ':PREROUTING ACCEPT [0:0]', '-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.1.2:8080', 'COMMIT', ''].join('\n');
  const packet = { src: '10.244.2.2', dst: '10.96.0.10', port: 80, proto: 'tcp' as const };
  const report = await iptables.trace({ packet, localAddresses: [], rulesText });
  t.match(report.outcomes, [{ verdict: 'dnat', endpoint: '10.244.1.2:8080' }]);
  t.match(report.describe(false), /DNAT to 10\.244\.1\.2:8080/);
  await t.rejects(iptables.trace({ packet, localAddresses: [], flavour: 'bogus' }), { code: 'ERR_USAGE', message: /--mode must be nft or legacy/ });
});
