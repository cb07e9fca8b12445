// Graceful restart as the restarting speaker (RFC 4724): the agent is
// SIGKILLed and started again with its routes still in the kernel. Its new
// OPEN carries the R and F bits, so BIRD keeps the node's block (stale) all
// along and takes the new announcement at End-of-RIB; the agent keeps the
// routes it learned in the kernel until BIRD's End-of-RIB, then removes the
// one BIRD withdrew while the agent was down. Both sides are sampled every
// 100 ms through the restart: neither route may be missing once.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { blockYaml, established, nodeYaml, startAgent, startBird, type Agent } from './bgp-lab.ts';

const birdConf = `router id 192.168.99.2;
protocol device {}
protocol static s1 { ipv4; route 10.98.1.0/24 blackhole; }
protocol static s2 { ipv4; route 10.98.2.0/24 blackhole; }
protocol bgp netlet {
  local 192.168.99.2 as 65001;
  neighbor 192.168.99.1 as 64512;
  connect retry time 1;
  graceful restart on;
  ipv4 { import all; export all; };
}
`;

/** The "Neighbor capabilities" part of `birdc show protocols all`: what the agent's OPEN said. */
const neighborCaps = (text: string): string => text.slice(text.indexOf('Neighbor capabilities'), text.indexOf('Session:'));

t.test('the agent restarts gracefully: BIRD keeps its block, the kernel keeps what it learned', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  const lab = new Lab('bgr');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('n');
  const router = await lab.netns('r');
  await lab.link(node, router, '192.168.99.1/24', '192.168.99.2/24');
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'node.yaml'), `${nodeYaml('a', '192.168.99.1')}---\n${blockYaml('10.248.0.0/26', 'a')}`);
  const bird = await startBird(t, lab, router, dir, 'bird', birdConf);
  const config = 'bgp:\n  enabled: true\n  peers:\n    - {peerIP: 192.168.99.2, asNumber: 65001}';
  const first = startAgent(t, lab, node, dir, { node: 'a', manifests, config });
  await established(first);
  const learned = () => node.ip('route', 'show', 'proto', 'bgp');
  const atBird = () => bird.birdc('show', 'route', '10.248.0.0/26');
  await eventually(async () => (await learned()).includes('10.98.2.0/24') && (await atBird()).includes('10.248.0.0/26'), 20_000);
  t.notMatch(first.log(), /restarting speaker/, 'a first start on an empty kernel is not a restart');
  const firstCaps = neighborCaps(await bird.birdc('show', 'protocols', 'all', 'netlet'));
  t.notMatch(firstCaps, /Restart recovery/, 'so its OPEN has no R bit');
  t.match(firstCaps, /AF preserved:\s*\n/, 'and no F bit: nothing was kept');

  // Sample both sides until the restart is over.
  const misses: string[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [k, b] = await Promise.all([learned(), atBird()]);
      if (!k.includes('10.98.1.0/24')) misses.push(`${new Date().toISOString()} node kernel lost 10.98.1.0/24`);
      if (!b.includes('10.248.0.0/26')) misses.push(`${new Date().toISOString()} BIRD lost 10.248.0.0/26: ${b}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  // While the agent is down BIRD withdraws one route: the restarted agent must sweep it after BIRD's End-of-RIB.
  await bird.birdc('disable', 's2');
  await new Promise((r) => setTimeout(r, 1000));
  const second: Agent = startAgent(t, lab, node, dir, { node: 'a', manifests, config });
  await established(second, 1, 30_000);
  t.match(second.log(), /restarting speaker/, 'the restarted agent saw its kept routes and restarts gracefully');
  await eventually(async () => !(await learned()).includes('10.98.2.0/24'), 20_000);
  t.pass("the route BIRD withdrew meanwhile is removed after BIRD's End-of-RIB");
  await new Promise((r) => setTimeout(r, 2000));
  sampling = false;
  await sampler;
  t.same(misses, [], "neither BIRD's route to the node's block nor the node's learned route went missing");
  t.match(await bird.birdc('show', 'protocols', 'netlet'), /Established/, 'BIRD has the session again');
  const caps = neighborCaps(await bird.birdc('show', 'protocols', 'all', 'netlet'));
  t.match(caps, /Restart recovery/, "BIRD read the R bit in the restarted agent's OPEN");
  t.match(caps, /AF preserved: ipv4/, 'and the F bit for IPv4');
  t.match(await learned(), /10\.98\.1\.0\/24 via 192\.168\.99\.2/, 'and the kept route is the new session\'s');
});
