// BGPConfiguration and BGPPeer conversion: Calico's field names read, absent fields left absent
// (so the next level's setting holds), and each bad field refused naming it.
import t from 'tap';
import { InvalidObjectError } from '../../../src/base/errors.ts';
import { convertBGPConfiguration, convertBGPPeer } from '../../../src/k8s/convert/bgp.ts';
import { checkSlim } from '../../../src/k8s/convert/slim.ts';

const peer = (spec: Record<string, unknown>, name = 'p1') => ({ apiVersion: 'netlet.io/v1', kind: 'BGPPeer', metadata: { name }, spec });
const conf = (spec: Record<string, unknown>, name = 'default') => ({ apiVersion: 'netlet.io/v1', kind: 'BGPConfiguration', metadata: { name }, spec });

t.test('BGPConfiguration: set fields kept, absent ones absent', async (t) => {
  const c = convertBGPConfiguration(conf({ asNumber: 65000, nodeToNodeMeshEnabled: false, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }));
  t.same(c, { kind: 'BGPConfiguration', meta: { namespace: '', name: 'default', uid: '', resourceVersion: '' }, asNumber: 65000, nodeToNodeMeshEnabled: false, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] });
  t.notOk('listenPort' in c, 'listenPort left to the agent config');
  checkSlim(c);
  t.same(convertBGPConfiguration(conf({}, 'node.node-a')).meta.name, 'node.node-a');
});

t.test('BGPPeer: a router peer, an RR peering by selectors', async (t) => {
  const router = convertBGPPeer(peer({ peerIP: '192.0.2.1:1179', asNumber: 65001, node: 'node-a', holdTime: '1m30s', keepaliveTime: '30s', nextHopSelf: true }));
  t.match(router, { peerIP: '192.0.2.1', port: 1179, asNumber: 65001, node: 'node-a', nodeSelector: '', peerSelector: '', holdTime: 90, keepaliveTime: 30, nextHopSelf: true, sourceAddress: 'UseNodeIP' });
  t.notOk('gracefulRestart' in router);
  checkSlim(router);
  t.match(convertBGPPeer(peer({ peerIP: '[fd00::1]:1179', asNumber: 65001 })), { peerIP: 'fd00::1', port: 1179 });
  t.match(convertBGPPeer(peer({ peerIP: 'fd00::1', asNumber: 65001, port: 2179 })), { peerIP: 'fd00::1', port: 2179 });
  const rr = convertBGPPeer(peer({ nodeSelector: 'all()', peerSelector: 'has(netlet.io/route-reflector-cluster-id)' }));
  t.match(rr, { peerIP: '', asNumber: 0, nodeSelector: 'all()', peerSelector: 'has(netlet.io/route-reflector-cluster-id)' });
  checkSlim(rr);
  const md5 = convertBGPPeer(peer({ peerIP: '192.0.2.1', asNumber: 65001, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } }));
  t.same(md5.password, { secretName: 'bgp-secrets', key: 'tor' });
  checkSlim(md5);
});

const bad: Array<[what: string, spec: Record<string, unknown>, field: string, reason: RegExp]> = [
  ['no peer', { asNumber: 65001 }, 'spec.peerIP', /required \(or peerSelector\)/],
  ['no AS', { peerIP: '192.0.2.1' }, 'spec.asNumber', /required/],
  ['bad address', { peerIP: '192.0.2.300', asNumber: 1 }, 'spec.peerIP', /not an IP address/],
  ['two ports', { peerIP: '192.0.2.1:1179', port: 179, asNumber: 1 }, 'spec.port', /contradicts/],
  ['peerIP and peerSelector', { peerIP: '192.0.2.1', peerSelector: 'all()' }, 'spec.peerIP', /either peerIP or peerSelector/],
  ['AS with peerSelector', { peerSelector: 'all()', asNumber: 5 }, 'spec.asNumber', /cluster's/],
  ['node and nodeSelector', { peerIP: '192.0.2.1', asNumber: 1, node: 'a', nodeSelector: 'all()' }, 'spec.nodeSelector', /not both/],
  ['bad selector', { peerIP: '192.0.2.1', asNumber: 1, nodeSelector: "rack = 'a'" }, 'spec.nodeSelector', /selector/],
  ['hold time 2s', { peerIP: '192.0.2.1', asNumber: 1, holdTime: '2s' }, 'spec.holdTime', /RFC 4271/],
  ['hold time not a duration', { peerIP: '192.0.2.1', asNumber: 1, holdTime: 'soon' }, 'spec.holdTime', /duration/],
  ['source address', { peerIP: '192.0.2.1', asNumber: 1, sourceAddress: 'eth0' }, 'spec.sourceAddress', /UseNodeIP, None or an IP/],
  ['password as text', { peerIP: '192.0.2.1', asNumber: 1, password: 'x' }, 'spec.password', /mapping/],
  ['a Calico field netlet does not implement', { peerIP: '192.0.2.1', asNumber: 1, maxRestartTime: '120s' }, 'spec.maxRestartTime', /not supported by netlet/],
  ['password without key', { peerIP: '192.0.2.1', asNumber: 1, password: { secretKeyRef: { name: 's' } } }, 'spec.password.secretKeyRef.key', /required/],
];
for (const [what, spec, field, reason] of bad) {
  t.test(`BGPPeer refused: ${what}`, async (t) => {
    const err = t.throws(() => convertBGPPeer(peer(spec))) as InvalidObjectError;
    t.ok(err instanceof InvalidObjectError);
    t.equal(err.field, field);
    t.match(err.reason, reason);
  });
}

/** The field an InvalidObjectError names, or what else happened. */
function refusedField(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return err instanceof InvalidObjectError ? err.field : String(err);
  }
}

t.test('BGPConfiguration refused field by field', async (t) => {
  t.equal(refusedField(() => convertBGPConfiguration(conf({ asNumber: 0 }))), 'spec.asNumber');
  t.equal(refusedField(() => convertBGPConfiguration(conf({ listenPort: 70000 }))), 'spec.listenPort');
  t.equal(refusedField(() => convertBGPConfiguration(conf({ serviceClusterIPs: ['10.96.0.0/12'] }))), 'spec.serviceClusterIPs[0]');
  t.equal(refusedField(() => convertBGPConfiguration(conf({ serviceExternalIPs: [{ cidr: '10.0.0.0/40' }] }))), 'spec.serviceExternalIPs[0].cidr');
  t.equal(refusedField(() => convertBGPConfiguration(conf({ nodeToNodeMeshEnabled: 'no' }))), 'spec.nodeToNodeMeshEnabled');
  t.equal(refusedField(() => convertBGPConfiguration(conf({ logSeverityScreen: 'Info' }))), 'spec.logSeverityScreen', 'a Calico field netlet does not read is refused, not ignored');
});
