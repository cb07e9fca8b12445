// Equal paths from two routers become one multipath route in the kernel
// (ECMP), and one router's withdrawal leaves the other next hop alone.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { established, nodeYaml, startAgent, startBird } from './bgp-lab.ts';

const birdConf = (id: string, as: number) => `router id ${id};
protocol device {}
protocol static svc { ipv4; route 10.95.0.0/24 blackhole; }
protocol bgp netlet {
  local ${id} as ${as};
  neighbor 192.168.97.1 as 64512;
  connect retry time 2;
  ipv4 { import none; export all; };
}
`;

t.test('ECMP across two BIRD routers', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  const lab = new Lab('bge');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('n');
  const r1 = await lab.netns('r1');
  const r2 = await lab.netns('r2');
  const sw = await lab.netns('sw');
  await sw.ip('link', 'add', 'br0', 'type', 'bridge');
  await sw.ip('link', 'set', 'br0', 'up');
  for (const [ns, addr] of [[node, '192.168.97.1/24'], [r1, '192.168.97.2/24'], [r2, '192.168.97.3/24']] as const) {
    const [, swEnd] = await lab.link(ns, sw, addr);
    await sw.ip('link', 'set', swEnd, 'master', 'br0');
  }
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'node.yaml'), nodeYaml('a', '192.168.97.1'));
  const agent = startAgent(t, lab, node, dir, {
    node: 'a',
    manifests,
    config: 'bgp:\n  enabled: true\n  peers:\n    - {peerIP: 192.168.97.2, asNumber: 65011}\n    - {peerIP: 192.168.97.3, asNumber: 65012}',
  });
  const b1 = await startBird(t, lab, r1, dir, 'r1', birdConf('192.168.97.2', 65011));
  await startBird(t, lab, r2, dir, 'r2', birdConf('192.168.97.3', 65012));
  await established(agent, 2);
  const show = () => node.ip('route', 'show', 'proto', 'bgp');
  const both = await eventually(async () => {
    const r = await show();
    return r.includes('nexthop via 192.168.97.2') && r.includes('nexthop via 192.168.97.3') ? r : '';
  }, 20_000).catch(async (err) => {
    throw new Error(`${(err as Error).message}; routes: ${await show()}; agent log: ${agent.log().slice(-2500)}`);
  });
  t.match(both, /10\.95\.0\.0\/24\s+nexthop via/, `one multipath route:\n${both}`);
  await b1.birdc('disable', 'svc');
  const one = await eventually(async () => {
    const r = await show();
    return !r.includes('nexthop') && r.includes('10.95.0.0/24 via 192.168.97.3') ? r : '';
  }, 20_000);
  t.pass(`one router withdraws: a plain route through the other:\n${one}`);
});
