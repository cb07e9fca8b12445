// Which API connection block claims use: the IPAM config's kubeconfig, else
// the hosting agent's connection, else the default chain; and when there is
// none at all, the plugin's error tells what to set in the network config
// (it has no --kubeconfig or --manifests flag to pass).
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesClaims } from '../../../src/ipam/claims-kubernetes.ts';
import { parseIpamConfig } from '../../../src/ipam/config.ts';

t.test('no kubeconfig anywhere: the error names the ipam section, not a command-line flag', async (t) => {
  const home = join(t.testdir(), 'home');
  mkdirSync(home);
  const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST, NETLET_AGENT_KUBECONFIG: process.env.NETLET_AGENT_KUBECONFIG };
  process.env.HOME = home;
  // No identity written by an agent either (this machine may hold one at the default path).
  process.env.NETLET_AGENT_KUBECONFIG = join(home, 'no-agent-kubeconfig');
  delete process.env.KUBECONFIG;
  delete process.env.KUBERNETES_SERVICE_HOST;
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  });
  const cfg = parseIpamConfig({ datastore: 'kubernetes', pools: [{ cidr: '10.1.0.0/16' }] }, { nodeName: 'n1', dataDir: t.testdir() });
  const claims = KubernetesClaims.fromConfig(cfg);
  const err = await claims.owned().then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
  t.equal(err?.code, 'ERR_KUBECONFIG_NOT_FOUND');
  t.match(err?.message, /"kubeconfig" in the network config's ipam section/);
  t.notMatch(err?.message, /--kubeconfig|--manifests/, 'no flag the plugin does not have');
});
