// Speakers talking over real TCP on loopback addresses (127.0.0.x): sessions
// come up, own prefixes are learned by the other side with the right next
// hop, withdrawals and stops remove them, and a route reflector passes its
// clients' routes on with ORIGINATOR_ID and CLUSTER_LIST (RFC 4456).
import t, { type Test } from 'tap';
import { BgpSpeaker, type PeerConfig } from '../../../src/bgp/speaker.ts';
import { meshPassive } from '../../../src/bgp/session/mesh.ts';
import { eventually } from '../../helpers/netns.ts';

function learned(s: BgpSpeaker): Record<string, string> {
  const out: Record<string, string> = {};
  for (const paths of s.selected()) out[paths[0].prefix] = paths.map((p) => p.nextHop).join(',');
  return out;
}

async function speaker(t: Test, id: string, opts: { listen?: boolean; clusterId?: string } = {}): Promise<BgpSpeaker> {
  const s = new BgpSpeaker({ asNumber: 64512, routerId: id, listen: opts.listen ? { host: '127.0.0.1', port: 0 } : undefined, clusterId: opts.clusterId, readyTimeoutMs: 5000 });
  await s.start();
  t.teardown(() => s.stop());
  return s;
}

const dialTo = (hub: BgpSpeaker, address: string, extra: Partial<PeerConfig> = {}): PeerConfig => ({ address: '127.0.0.1', port: hub.port, asNumber: 64512, sourceAddress: address, holdTime: 9, ...extra });

t.test('two iBGP speakers learn each other\'s prefixes; a removed prefix and a stopped peer are withdrawn', async (t) => {
  const a = await speaker(t, '10.0.0.1', { listen: true });
  const b = await speaker(t, '10.0.0.2');
  a.setPeers([{ address: '127.0.0.2', asNumber: 64512, passive: true, name: 'node-b' }]);
  a.setLocalPrefixes(['10.244.1.0/26']);
  b.setLocalPrefixes(['10.244.2.0/26', '10.244.3.0/26']);
  b.setPeers([dialTo(a, '127.0.0.2', { name: 'node-a' })]);
  await eventually(() => a.status()[0].state === 'Established' && b.status()[0].state === 'Established');
  await b.ready();
  t.same(await eventually(() => Object.keys(learned(b)).length && learned(b)), { '10.244.1.0/26': '127.0.0.1' }, 'b learned a\'s block, next hop a\'s session address');
  t.same(await eventually(() => Object.keys(learned(a)).length === 2 && learned(a)), { '10.244.2.0/26': '127.0.0.2', '10.244.3.0/26': '127.0.0.2' });
  t.match(a.status()[0], { name: 'node-b', state: 'Established', prefixesReceived: 2, prefixesSent: 1 });

  b.setLocalPrefixes(['10.244.2.0/26']);
  t.same(await eventually(() => Object.keys(learned(a)).length === 1 && learned(a)), { '10.244.2.0/26': '127.0.0.2' }, 'the removed block is withdrawn');

  await b.stop();
  await eventually(() => Object.keys(learned(a)).length === 0);
  t.match(a.status()[0].lastError, /received NOTIFICATION cease \/ administrative shutdown \(6\/2\)/);
});

t.test('peers without graceful restart: ready once the sessions are up', async (t) => {
  const a = await speaker(t, '10.0.0.1', { listen: true });
  a.setPeers([{ address: '127.0.0.2', asNumber: 64512, passive: true, gracefulRestart: false }]);
  // Peers set before start, as the agent does: ready then waits for them (the timer is unref'd by nothing, so keep it short).
  const b = new BgpSpeaker({ asNumber: 64512, routerId: '10.0.0.2', readyTimeoutMs: 8000 });
  b.setPeers([dialTo(a, '127.0.0.2', { gracefulRestart: false })]);
  const started = Date.now();
  await b.start();
  t.teardown(() => b.stop());
  await b.ready();
  t.equal(b.status()[0].state, 'Established', 'ready once the session is up');
  t.ok(Date.now() - started < 4000, `not after the 8 s timeout (${Date.now() - started} ms)`);
});

t.test('a route reflector passes one client\'s routes to the other with ORIGINATOR_ID and CLUSTER_LIST', async (t) => {
  const rr = await speaker(t, '10.0.0.100', { listen: true, clusterId: '10.0.0.100' });
  const b = await speaker(t, '10.0.0.2');
  const c = await speaker(t, '10.0.0.3');
  rr.setPeers([
    { address: '127.0.0.2', asNumber: 64512, passive: true, routeReflectorClient: true },
    { address: '127.0.0.3', asNumber: 64512, passive: true, routeReflectorClient: true },
  ]);
  b.setPeers([dialTo(rr, '127.0.0.2')]);
  c.setPeers([dialTo(rr, '127.0.0.3')]);
  b.setLocalPrefixes(['10.244.2.0/26']);
  c.setLocalPrefixes(['10.244.3.0/26']);
  t.same(await eventually(() => Object.keys(learned(c)).length && learned(c)), { '10.244.2.0/26': '127.0.0.2' }, 'next hop unchanged by the reflector');
  t.same(await eventually(() => Object.keys(learned(b)).length && learned(b)), { '10.244.3.0/26': '127.0.0.3' });
  const [path] = [...c.selected()][0];
  t.equal(path.attributes.originatorId, '10.0.0.2');
  t.same(path.attributes.clusterList, ['10.0.0.100']);
});

t.test('the mesh\'s passive side is the node whose peer\'s address sorts after its own, as text (as Calico)', async (t) => {
  t.equal(meshPassive('10.0.0.10', '10.0.0.5'), true, '"10.0.0.5" > "10.0.0.10" as text');
  t.equal(meshPassive('10.0.0.5', '10.0.0.10'), false);
  t.equal(meshPassive('10.0.0.1', '10.0.0.2') !== meshPassive('10.0.0.2', '10.0.0.1'), true, 'exactly one side dials');
});
