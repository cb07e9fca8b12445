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

t.test('mode ipvs: refused with a ConfigError naming proxy.mode', async (t) => {
  await t.rejects(configuredBackend(buildConfig({ proxy: { mode: 'ipvs' } }, { nodeName: 'n' }), env), { code: 'ERR_CONFIG', key: 'proxy.mode', message: /IPVS/ });
  await t.rejects(proxyBackendKind('ipvs'), { code: 'ERR_CONFIG', key: 'proxy.mode' });
  await t.rejects(proxyBackendKind('userspace'), { code: 'ERR_CONFIG', message: /no "userspace" backend; use iptables/ });
});

t.test('the modes netlet runs (cleanup cleans each)', async (t) => {
  t.same(runnableModes(), ['iptables', 'nftables']);
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
