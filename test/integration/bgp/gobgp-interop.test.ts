// netlet's speaker against GoBGP over a veth, eBGP, one IPv4 and one IPv6
// session (netlet passive: GoBGP dials both): GoBGP's routes in the node's
// kernel (proto bgp, both families), netlet's blocks in `gobgp global rib`,
// a withdrawal, and GoBGP killed (no graceful restart announced, so its
// routes go at once) and restarted.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { blockYaml, established, nodeYaml, startAgent, startGoBgp } from './bgp-lab.ts';

const toml = `[global.config]
  as = 65002
  router-id = "192.168.92.2"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "192.168.92.1"
    peer-as = 64512
  [neighbors.timers.config]
    connect-retry = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "fd00:92::1"
    peer-as = 64512
  [neighbors.timers.config]
    connect-retry = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`;

t.test('netlet <-> GoBGP, IPv4 and IPv6', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const lab = new Lab('bgg');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('n');
  const router = await lab.netns('r');
  const [ifN, ifR] = await lab.link(node, router, '192.168.92.1/24', '192.168.92.2/24');
  await node.ip('addr', 'add', 'fd00:92::1/64', 'dev', ifN, 'nodad');
  await router.ip('addr', 'add', 'fd00:92::2/64', 'dev', ifR, 'nodad');
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'node.yaml'), nodeYaml('a', '192.168.92.1', 'fd00:92::1'));
  writeFileSync(join(manifests, 'blocks.yaml'), `${blockYaml('10.247.0.0/26', 'a')}---\n${blockYaml('fd00:247::/122', 'a')}`);

  const agent = startAgent(t, lab, node, dir, {
    node: 'a',
    manifests,
    config: 'bgp:\n  enabled: true\n  peers:\n    - {peerIP: 192.168.92.2, asNumber: 65002, passive: true}\n    - {peerIP: "fd00:92::2", asNumber: 65002, passive: true}',
  });
  let gobgp = await startGoBgp(lab, router, dir, 'gobgp', toml);
  await gobgp.gobgp('global', 'rib', 'add', '10.98.1.0/24');
  await gobgp.gobgp('global', 'rib', 'add', '10.98.2.0/24');
  await gobgp.gobgp('global', 'rib', '-a', 'ipv6', 'add', 'fd98:1::/64');
  await established(agent, 2);

  const v4 = () => node.ip('route', 'show', 'proto', 'bgp');
  const v6 = () => node.ip('-6', 'route', 'show', 'proto', 'bgp');
  t.match(await eventually(async () => ((await v4()).includes('10.98.2.0/24') ? v4() : ''), 20_000), /10\.98\.1\.0\/24 via 192\.168\.92\.2/, "GoBGP's IPv4 route in the kernel");
  t.match(await eventually(async () => ((await v6()).includes('fd98:1::/64') ? v6() : ''), 20_000), /fd98:1::\/64 via fd00:92::2/, "GoBGP's IPv6 route in the kernel");

  t.match(await eventually(async () => ((await gobgp.gobgp('global', 'rib')).includes('10.247.0.0/26') ? gobgp.gobgp('global', 'rib') : ''), 20_000), /10\.247\.0\.0\/26\s+192\.168\.92\.1\s+64512/, "netlet's IPv4 block in gobgp global rib, AS path 64512");
  t.match(await eventually(async () => ((await gobgp.gobgp('global', 'rib', '-a', 'ipv6')).includes('fd00:247::/122') ? gobgp.gobgp('global', 'rib', '-a', 'ipv6') : ''), 20_000), /fd00:247::\/122\s+fd00:92::1/, "netlet's IPv6 block with its IPv6 next hop");

  await gobgp.gobgp('global', 'rib', 'del', '10.98.2.0/24');
  await eventually(async () => !(await v4()).includes('10.98.2.0/24'), 20_000);
  t.pass('a GoBGP withdrawal removes the route');

  gobgp.child.kill('SIGKILL');
  await new Promise((r) => gobgp.child.once('exit', r));
  await eventually(async () => !(await v4()).includes('10.98.1.0/24') && !(await v6()).includes('fd98:1::'), 20_000);
  t.pass('session loss without graceful restart removes the routes at once');

  gobgp = await startGoBgp(lab, router, dir, 'gobgp', toml);
  await gobgp.gobgp('global', 'rib', 'add', '10.98.1.0/24');
  await established(agent, 2, 40_000);
  await eventually(async () => (await v4()).includes('10.98.1.0/24'), 20_000);
  t.pass('the restarted peer comes back and its route with it');
});
