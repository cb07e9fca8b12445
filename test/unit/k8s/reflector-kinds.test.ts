import t from 'tap';
import { watchedKinds } from '../../../src/agent/api-sources.ts';
import { buildConfig } from '../../../src/agent/config.ts';
import type { ConfigOverrides } from '../../../src/agent/config.ts';

// Which kinds the API source watches follows what the config runs: each
// watch costs memory and needs RBAC (netlet-dns has no Nodes or IPAMBlocks).
const rows: { name: string; doc?: object; over: ConfigOverrides; kinds: string[] }[] = [
  { name: 'agent defaults (iptables proxy)', over: {}, kinds: ['Service', 'EndpointSlice', 'Node'] },
  { name: 'netlet dns (proxy none, dns on)', over: { proxyMode: 'none', dns: true }, kinds: ['Service', 'EndpointSlice', 'Pod', 'Namespace'] },
  { name: 'proxy + dns', over: { dns: true }, kinds: ['Service', 'EndpointSlice', 'Node', 'Pod', 'Namespace'] },
  { name: 'routes only', doc: { routes: { enabled: true } }, over: { proxyMode: 'none' }, kinds: ['Node', 'IPAMBlock'] },
  { name: 'bgp only', doc: { bgp: { enabled: true } }, over: { proxyMode: 'none' }, kinds: ['Node', 'Pod', 'IPAMBlock', 'BGPConfiguration', 'BGPPeer'] },
  { name: 'bgp with the proxy: blocks to announce, Pods for borrowed addresses', doc: { bgp: { enabled: true } }, over: {}, kinds: ['Service', 'EndpointSlice', 'Node', 'Pod', 'IPAMBlock', 'BGPConfiguration', 'BGPPeer'] },
  { name: 'nothing consumes: everything (snapshot keeper)', over: { proxyMode: 'none' }, kinds: ['Service', 'EndpointSlice', 'Node', 'Pod', 'Namespace', 'IPAMBlock', 'BGPConfiguration', 'BGPPeer'] },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    t.same(watchedKinds(buildConfig(row.doc ?? {}, { nodeName: 'n1', ...row.over })), row.kinds);
  });
}
