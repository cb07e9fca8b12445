// Route reflection (RFC 4456) both ways round: netlet reflecting between two
// BIRD clients (BIRD sees ORIGINATOR_ID and CLUSTER_LIST, next hop
// unchanged), and two netlet nodes (no mesh) learning each other's blocks
// through a GoBGP route reflector.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { blockYaml, established, nodeYaml, segment, startAgent, startBird, startGoBgp } from './bgp-lab.ts';

const birdClient = (id: string, route: string) => `router id ${id};
protocol device {}
protocol direct { ipv4; }
protocol static { ipv4; route ${route} blackhole; }
protocol bgp reflector {
  local ${id} as 64512;
  neighbor 192.168.95.1 as 64512;
  connect retry time 2;
  ipv4 { import all; export all; };
}
`;

t.test('netlet as route reflector for two BIRD clients', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  const lab = new Lab('bgr');
  t.teardown(() => lab.cleanup());
  const rr = await lab.netns('rr');
  const c1 = await lab.netns('c1');
  const c2 = await lab.netns('c2');
  await segment(lab, [[rr, '192.168.95.1/24'], [c1, '192.168.95.2/24'], [c2, '192.168.95.3/24']]);
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'node.yaml'), nodeYaml('rr', '192.168.95.1'));
  const agent = startAgent(t, lab, rr, dir, {
    node: 'rr',
    manifests,
    config: [
      'bgp:',
      '  enabled: true',
      '  nodeToNodeMesh: false',
      '  routeReflectorClusterID: 192.168.95.1',
      '  peers:',
      '    - {peerIP: 192.168.95.2, asNumber: 64512, routeReflectorClient: true}',
      '    - {peerIP: 192.168.95.3, asNumber: 64512, routeReflectorClient: true}',
    ].join('\n'),
  });
  const b1 = await startBird(t, lab, c1, dir, 'c1', birdClient('192.168.95.2', '10.96.2.0/24'));
  const b2 = await startBird(t, lab, c2, dir, 'c2', birdClient('192.168.95.3', '10.96.3.0/24'));
  await established(agent, 2);

  const at2 = await eventually(async () => {
    const r = await b2.birdc('show', 'route', '10.96.2.0/24', 'all');
    return r.includes('BGP.cluster_list') ? r : '';
  }, 20_000);
  t.match(at2, /BGP\.next_hop: 192\.168\.95\.2/, 'the next hop stays client 1 (not the reflector)');
  t.match(at2, /unicast \[reflector .*\n\s+via 192\.168\.95\.2/, 'and BIRD resolves it');
  t.match(at2, /BGP\.originator_id: 192\.168\.95\.2/, 'ORIGINATOR_ID is client 1');
  t.match(at2, /BGP\.cluster_list: 192\.168\.95\.1/, 'CLUSTER_LIST holds the cluster ID');
  const at1 = await eventually(async () => {
    const r = await b1.birdc('show', 'route', '10.96.3.0/24', 'all');
    return r.includes('BGP.originator_id') ? r : '';
  }, 20_000);
  t.match(at1, /BGP\.originator_id: 192\.168\.95\.3/, 'and the other way');
  t.notMatch(await b1.birdc('show', 'route', '10.96.2.0/24', 'all'), /BGP\.cluster_list/, 'a client is not sent its own route back');
});

const gobgpRr = `[global.config]
  as = 64512
  router-id = "192.168.96.100"
${['192.168.96.1', '192.168.96.2']
  .map(
    (ip) => `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${ip}"
    peer-as = 64512
  [neighbors.route-reflector.config]
    route-reflector-client = true
    route-reflector-cluster-id = "192.168.96.100"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`,
  )
  .join('')}`;

t.test('two netlet nodes as clients of a GoBGP route reflector', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  const lab = new Lab('bgq');
  t.teardown(() => lab.cleanup());
  const a = await lab.netns('a');
  const b = await lab.netns('b');
  const rr = await lab.netns('rr');
  await segment(lab, [[a, '192.168.96.1/24'], [b, '192.168.96.2/24'], [rr, '192.168.96.100/24']]);
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'nodes.yaml'), `${nodeYaml('a', '192.168.96.1')}---\n${nodeYaml('b', '192.168.96.2')}`);
  writeFileSync(join(manifests, 'blocks.yaml'), `${blockYaml('10.250.0.0/26', 'a')}---\n${blockYaml('10.250.0.64/26', 'b')}`);
  const config = 'bgp:\n  enabled: true\n  nodeToNodeMesh: false\n  peers:\n    - {peerIP: 192.168.96.100, asNumber: 64512}';
  const gobgp = await startGoBgp(lab, rr, dir, 'rr', gobgpRr);
  const agents = [startAgent(t, lab, a, dir, { node: 'a', manifests, config }), startAgent(t, lab, b, dir, { node: 'b', manifests, config })];
  for (const ag of agents) await established(ag, 1);
  t.match(await eventually(async () => ((await a.ip('route', 'show', 'proto', 'bgp')).includes('10.250.0.64/26') ? a.ip('route', 'show', 'proto', 'bgp') : ''), 20_000), /10\.250\.0\.64\/26 via 192\.168\.96\.2/, "a learns b's block with b as next hop");
  t.match(await eventually(async () => ((await b.ip('route', 'show', 'proto', 'bgp')).includes('10.250.0.0/26') ? b.ip('route', 'show', 'proto', 'bgp') : ''), 20_000), /10\.250\.0\.0\/26 via 192\.168\.96\.1/, "b learns a's block");
  const rib = await gobgp.gobgp('global', 'rib');
  t.match(rib, /10\.250\.0\.0\/26/, "the reflector's RIB has a's block");
  t.match(rib, /10\.250\.0\.64\/26/, "and b's");
});
