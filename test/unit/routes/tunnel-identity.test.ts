// What every node computes alike about every other node's tunnel end, with
// no coordination: the VTEP MAC (Calico's derivation, or the Node's
// annotation), the tunnel address (the network address of its first
// prefix), and whether a peer lies in this node's subnet (cross-subnet).
import t from 'tap';
import { convertNode } from '../../../src/k8s/convert/node.ts';
import { insideSubnet } from '../../../src/routes/encapsulation.ts';
import { peerOfNode, tunnelAddresses } from '../../../src/routes/peer.ts';
import { derivedVtepMac } from '../../../src/routes/vtep-mac.ts';
import { node } from '../../helpers/objects.ts';

t.test('derived VTEP MAC: 0x66 then the first 5 bytes of sha1(node name)', async (t) => {
  // Golden vectors computed apart from the code (python3 hashlib.sha1).
  const rows = [
    { name: 'node-a', mac: '66:07:02:c1:cc:60' },
    { name: 'kind-worker', mac: '66:46:b3:ce:05:5d' },
  ];
  for (const r of rows) t.equal(derivedVtepMac(r.name), r.mac, r.name);
});

t.test('a MAC published on the Node wins; a bad one is left out by every node alike', async (t) => {
  const raw = (mac: unknown) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', annotations: { 'netlet.io/vxlan-mac': mac } } });
  const rows = [
    { name: 'published', mac: '02:AA:bb:cc:dd:ee', want: '02:aa:bb:cc:dd:ee' },
    { name: 'not a MAC', mac: 'garbage', want: undefined },
    { name: 'multicast bit set', mac: '01:00:5e:00:00:01', want: undefined },
    { name: 'not a string', mac: 42, want: undefined },
  ];
  for (const r of rows) {
    const n = convertNode(raw(r.mac));
    t.equal(n.vxlanMac, r.want, `${r.name}: vxlanMac`);
    t.equal(peerOfNode(n).tunnel?.mac, r.want ?? '66:07:02:c1:cc:60', `${r.name}: the peer's MAC`);
  }
});

t.test("tunnel addresses: the network address of the node's first prefix per family", async (t) => {
  const rows = [
    { name: 'one block', prefixes: ['10.244.0.64/26'], want: { 4: '10.244.0.64' } },
    { name: 'first in prefix order, not list order', prefixes: ['10.244.1.0/26', '10.244.0.192/26'], want: { 4: '10.244.0.192' } },
    { name: 'dual stack', prefixes: ['fd00:244::40/122', '10.244.2.0/24'], want: { 4: '10.244.2.0', 6: 'fd00:244::40' } },
    { name: 'host bits cleared', prefixes: ['10.244.3.7/24'], want: { 4: '10.244.3.0' } },
    { name: 'none', prefixes: [], want: {} },
  ];
  for (const r of rows) t.same(tunnelAddresses(r.prefixes), r.want, r.name);
  t.same(peerOfNode(node('b', { internalIPs: ['192.168.0.2'] }), ['10.244.0.64/26']).tunnel?.addresses, { 4: '10.244.0.64' }, 'peerOfNode carries them');
});

t.test('cross-subnet: inside the underlay subnet or not', async (t) => {
  const rows = [
    { address: '192.168.41.30', subnet: '192.168.41.10/24', inside: true },
    { address: '192.168.42.20', subnet: '192.168.41.10/24', inside: false },
    { address: '10.0.0.1', subnet: '10.0.0.2/32', inside: false },
    { address: 'fd00::2', subnet: 'fd00::1/64', inside: true },
    { address: 'fd00::2', subnet: '192.168.41.10/24', inside: false },
  ];
  for (const r of rows) t.equal(insideSubnet(r.address, r.subnet), r.inside, `${r.address} in ${r.subnet}`);
});
