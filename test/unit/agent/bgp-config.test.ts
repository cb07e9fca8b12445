// The bgp section: defaults, peers as a list of mappings, and each refusal
// naming its key (a password too long, a missing address, a client without a
// reflector).
import t from 'tap';
import { buildConfig } from '../../../src/agent/config.ts';
import { bgpComponentOptions } from '../../../src/agent/bgp-options.ts';
import { ConfigError } from '../../../src/base/errors.ts';

const options = (bgp: unknown) => bgpComponentOptions(buildConfig({ bgp }, { nodeName: 'n1' }));

t.test('defaults follow Calico: AS 64512, port 179, mesh on', async (t) => {
  const cfg = buildConfig({}, { nodeName: 'n1' });
  t.match(cfg.bgp, { enabled: false, asNumber: 64512, routerID: '', listenPort: 179, nodeToNodeMesh: true, peers: [] });
  t.match(options({ enabled: true }), { asNumber: 64512, listenPort: 179, nodeToNodeMesh: true, gracefulRestartTime: 120, peers: [], advertise: { serviceClusterIPs: [], serviceExternalIPs: [], serviceLoadBalancerIPs: [] } });
});

t.test('a TCP MD5 password reaches the peer (the addon is built)', async (t) => {
  t.equal(options({ enabled: true, peers: [{ peerIP: '192.0.2.1', asNumber: 65001, password: 'x'.repeat(80) }] }).peers[0].password, 'x'.repeat(80));
});

t.test('a peer with every key', async (t) => {
  const o = options({
    enabled: true,
    routeReflectorClusterID: '10.0.0.100',
    peers: [{ peerIP: '192.0.2.1', asNumber: 65001, port: 1179, holdTime: '30s', keepaliveTime: '5s', gracefulRestart: false, nextHopSelf: true, sourceAddress: '192.0.2.2', routeReflectorClient: true }],
    advertise: { serviceClusterIPs: ['10.96.0.0/12'], serviceLoadBalancerIPs: ['198.51.100.0/24'] },
  });
  t.same(o.peers, [{ address: '192.0.2.1', asNumber: 65001, port: 1179, name: 'peer 192.0.2.1', holdTime: 30, keepaliveTime: 5, gracefulRestart: false, nextHopSelf: true, passive: false, routeReflectorClient: true, sourceAddress: '192.0.2.2' }]);
  t.equal(o.clusterId, '10.0.0.100');
  t.same(o.advertise, { serviceClusterIPs: ['10.96.0.0/12'], serviceExternalIPs: [], serviceLoadBalancerIPs: ['198.51.100.0/24'] });
});

const refusals: Array<[string, unknown, string]> = [
  ['a TCP MD5 password over 80 bytes', { peers: [{ peerIP: '192.0.2.1', asNumber: 65001, password: 'x'.repeat(81) }] }, 'bgp.peers[0].password'],
  ['a peer without peerIP', { peers: [{ asNumber: 65001 }] }, 'bgp.peers[0].peerIP'],
  ['a peer without asNumber', { peers: [{ peerIP: '192.0.2.1' }] }, 'bgp.peers[0].asNumber'],
  ['an unknown peer key', { peers: [{ peerIP: '192.0.2.1', asNumber: 1, bfd: true }] }, 'bgp.peers[0].bfd'],
  ['a hold time of 2 s', { peers: [{ peerIP: '192.0.2.1', asNumber: 1, holdTime: '2s' }] }, 'bgp.peers[0].holdTime'],
  ['a client without a cluster ID', { peers: [{ peerIP: '192.0.2.1', asNumber: 1, routeReflectorClient: true }] }, 'bgp.peers[0].routeReflectorClient'],
  ['a router ID that is not IPv4', { routerID: 'fd00::1' }, 'bgp.routerID'],
  ['an advertised range that is not a CIDR', { advertise: { serviceExternalIPs: ['10.0.0.1'] } }, 'bgp.advertise.serviceExternalIPs[0]'],
  ['peers not a list', { peers: { peerIP: '192.0.2.1' } }, 'bgp.peers'],
];
for (const [name, bgp, key] of refusals) {
  t.test(`refused: ${name}`, async (t) => {
    let caught: unknown;
    try {
      options(bgp);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof ConfigError, `a ConfigError (${(caught as Error)?.message})`);
    t.equal((caught as ConfigError).key, key);
  });
}
