// The terminating-endpoint fallback (KEP-1669) with real traffic through the
// whole agent in nftables mode: a Serving+Terminating endpoint gets no new
// connection while a ready one exists, takes them all when it is the only
// one left, and once it stops serving the service refuses.

import t from 'tap';
import { rename, writeFile } from 'node:fs/promises';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { nodeYaml, serviceYaml, sliceYaml } from '../../helpers/manifest-yaml.ts';
import { curlCode } from '../iptables/topology.ts';
import { podsAnswering, setupWebAgent, startWebAgent } from '../proxier/web-agent.ts';

const CONFIG = `
healthzBindAddress: 127.0.0.1:20456
metricsBindAddress: 127.0.0.1:20449
proxy:
  mode: nftables
  clusterCIDR: 10.244.0.0/16
  nftables: {syncPeriod: 2s, minSyncPeriod: 0s}
`;

const READY = '{ready: true, serving: true, terminating: false}';
const SERVING_TERMINATING = '{ready: false, serving: true, terminating: true}';
const TERMINATING = '{ready: false, serving: false, terminating: true}';

/** web's manifest with each endpoint's conditions (pod1 is 10.244.1.2, pod2 10.244.2.2). */
async function setEndpoints(file: string, endpoints: { ip: string; conditions: string }[]): Promise<void> {
  const text = [
    nodeYaml('node1', '192.168.100.1'),
    serviceYaml('default', 'web', '10.96.0.10', { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }),
    sliceYaml('default', 'web', 'web-1', { name: 'http', port: 8080, protocol: 'TCP' }, endpoints.map((e) => ({ ...e, nodeName: 'node1' }))),
  ].join('---\n');
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

t.test('agent, nftables: the terminating-endpoint fallback with real traffic', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg, file } = await setupWebAgent(t, 'nftt', CONFIG);
  const table = () => topo.node.exec('nft', ['list', 'table', 'ip', 'netlet']);
  await setEndpoints(file, [
    { ip: '10.244.1.2', conditions: READY },
    { ip: '10.244.2.2', conditions: SERVING_TERMINATING },
  ]);
  startWebAgent(t, topo, dir, cfg);
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 30_000, 200);
  t.same([...new Set(await podsAnswering(topo, 20))], ['pod1'], 'a ready endpoint exists: the serving-terminating one gets no new connection');

  await setEndpoints(file, [{ ip: '10.244.2.2', conditions: SERVING_TERMINATING }]);
  await eventually(async () => !(await table()).includes('10.244.1.2 . 8080'), 20_000, 100);
  t.same([...new Set(await podsAnswering(topo, 20))], ['pod2'], 'no ready endpoint: new connections fall back to the serving-terminating one');

  await setEndpoints(file, [{ ip: '10.244.2.2', conditions: TERMINATING }]);
  await eventually(async () => !(await table()).includes('10.244.2.2 . 8080'), 20_000, 100);
  const refused = await curlCode(topo.cpod, 'http://10.96.0.10/', 5);
  t.equal(refused.code, 7, 'terminating and no longer serving: connection refused (curl exit 7)');
});
