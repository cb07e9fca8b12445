// netlet's speaker against BIRD 2 over a veth, eBGP, both sides dialling
// (the collision is resolved by identifier): routes each way (BIRD's into
// the netlet node's kernel with proto bgp; netlet's block into BIRD's RIB and
// kernel), withdrawals both ways, BIRD killed and restarted (graceful
// restart keeps the routes meanwhile), and BIRD frozen until netlet's hold
// timer expires.
import t from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { blockYaml, established, nodeYaml, startAgent, startBird } from './bgp-lab.ts';

const birdConf = (hold: number) => `router id 192.168.91.2;
protocol device {}
protocol kernel { ipv4 { export all; import none; }; }
protocol static s1 { ipv4; route 10.99.1.0/24 blackhole; }
protocol static s2 { ipv4; route 10.99.2.0/24 blackhole; }
protocol bgp netlet {
  local 192.168.91.2 as 65001;
  neighbor 192.168.91.1 as 64512;
  hold time ${hold};
  connect retry time 2;
  graceful restart on;
  graceful restart time 60;
  ipv4 { import all; export all; };
}
`;

t.test('netlet <-> BIRD', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const lab = new Lab('bgb');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('n');
  const router = await lab.netns('r');
  await lab.link(node, router, '192.168.91.1/24', '192.168.91.2/24');
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'node.yaml'), nodeYaml('a', '192.168.91.1'));
  writeFileSync(join(manifests, 'block.yaml'), blockYaml('10.246.0.0/26', 'a'));
  writeFileSync(join(manifests, 'block2.yaml'), blockYaml('10.246.0.64/26', 'a'));

  let bird = await startBird(t, lab, router, dir, 'bird', birdConf(9));
  const agent = startAgent(t, lab, node, dir, {
    node: 'a',
    manifests,
    config: 'bgp:\n  enabled: true\n  asNumber: 64512\n  peers:\n    - {peerIP: 192.168.91.2, asNumber: 65001, holdTime: 9s}',
  });
  await established(agent);
  const learned = () => node.ip('route', 'show', 'proto', 'bgp');

  const routes = await eventually(async () => ((await learned()).includes('10.99.2.0/24') ? learned() : ''), 20_000);
  t.match(routes, /10\.99\.1\.0\/24 via 192\.168\.91\.2/, "BIRD's route in the node's kernel, proto bgp");
  t.match(routes, /10\.99\.2\.0\/24 via 192\.168\.91\.2/);
  t.match(await node.ip('route', 'show', 'proto', '88'), /blackhole 10\.246\.0\.0\/26/, 'the blackhole for our own block');

  const birdRoutes = await eventually(async () => {
    const r = await bird.birdc('show', 'route', 'protocol', 'netlet');
    return r.includes('10.246.0.64/26') ? r : '';
  }, 20_000);
  t.match(birdRoutes, /10\.246\.0\.0\/26\s+unicast \[netlet/, "netlet's block in BIRD's RIB");
  t.match(await router.ip('route'), /10\.246\.0\.0\/26 via 192\.168\.91\.1/, "and in BIRD's kernel");
  t.match(await bird.birdc('show', 'route', '10.246.0.0/26', 'all'), /BGP\.as_path: 64512/, 'AS_PATH is our AS');

  const text = await agent.statusText();
  t.match(text, /peer 192\.168\.91\.2\s+192\.168\.91\.2\s+65001\s+Established/, `netlet bgp status:\n${text}`);

  await bird.birdc('disable', 's2');
  await eventually(async () => !(await learned()).includes('10.99.2.0/24'), 20_000);
  t.pass("BIRD's withdrawal removes the route from the node's kernel");

  rmSync(join(manifests, 'block2.yaml'));
  await eventually(async () => !(await bird.birdc('show', 'route', 'protocol', 'netlet')).includes('10.246.0.64/26'), 20_000);
  t.pass("a block gone from the node is withdrawn from BIRD");

  // BIRD dies without a NOTIFICATION: graceful restart keeps its route while it comes back.
  bird.child.kill('SIGKILL');
  await new Promise((r) => bird.child.once('exit', r));
  await eventually(async () => (await agent.status()).peers[0].state !== 'Established', 30_000);
  t.match(await learned(), /10\.99\.1\.0\/24 via 192\.168\.91\.2/, 'the route stays while BIRD restarts (graceful restart)');
  bird = await startBird(t, lab, router, dir, 'bird2', birdConf(9));
  await established(agent, 1, 40_000);
  await eventually(async () => (await learned()).includes('10.99.1.0/24') && (await bird.birdc('show', 'route', 'protocol', 'netlet')).includes('10.246.0.0/26'), 20_000);
  t.pass('after the restart both sides have the routes again');

  // BIRD frozen: no KEEPALIVE, so netlet's hold timer (9 s) expires and the routes go.
  bird.child.kill('SIGSTOP');
  await eventually(async () => !(await learned()).includes('10.99.1.0/24'), 30_000);
  const s = await agent.status();
  t.match(s.peers[0].lastError, /hold timer expired/, 'status names the hold timer');
  t.match(agent.log(), /hold timer expired/, 'and the log names it');
  bird.child.kill('SIGCONT');
});
