// `netlet bgp refresh PEER` sends ROUTE-REFRESH (RFC 2918): BIRD answers by
// exporting its routes again (its export counter grows); a peer that is not
// configured is refused by name.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { established, NETLET, nodeYaml, startAgent, startBird } from './bgp-lab.ts';

const birdConf = `router id 192.168.89.2;
protocol device {}
protocol static { ipv4; route 10.93.1.0/24 blackhole; route 10.93.2.0/24 blackhole; }
protocol bgp netlet {
  local 192.168.89.2 as 65001;
  neighbor 192.168.89.1 as 64512;
  connect retry time 1;
  ipv4 { import all; export all; };
}
`;

/** BIRD's "Export updates: received" for the session: routes it has offered netlet, counted again on each refresh. */
const exported = (text: string): number => Number(/Export updates:\s+(\d+)/.exec(text)?.[1] ?? NaN);

t.test('netlet bgp refresh asks BIRD for its routes again', { skip: rootSkip(), timeout: 90_000 }, async (t) => {
  const lab = new Lab('brf');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('n');
  const router = await lab.netns('r');
  await lab.link(node, router, '192.168.89.1/24', '192.168.89.2/24');
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'node.yaml'), nodeYaml('a', '192.168.89.1'));
  const bird = await startBird(t, lab, router, dir, 'bird', birdConf);
  const agent = startAgent(t, lab, node, dir, { node: 'a', manifests, config: 'bgp:\n  enabled: true\n  peers:\n    - {peerIP: 192.168.89.2, asNumber: 65001}' });
  await established(agent);
  await eventually(async () => (await node.ip('route', 'show', 'proto', 'bgp')).includes('10.93.2.0/24'), 20_000);
  const before = exported(await bird.birdc('show', 'protocols', 'all', 'netlet'));
  t.ok(before >= 2, `BIRD exported its routes once (${before})`);

  const out = await node.exec(process.execPath, [NETLET, 'bgp', 'refresh', 'peer 192.168.89.2', '--socket', agent.socket]);
  t.match(out, /ROUTE-REFRESH sent to 192\.168\.89\.2/, 'the peer named as status names it');
  const after = await eventually(async () => {
    const n = exported(await bird.birdc('show', 'protocols', 'all', 'netlet'));
    return n >= before + 2 ? n : 0;
  }, 10_000);
  t.ok(after >= before + 2, `BIRD exported both routes again (${before} -> ${after})`);
  t.match(agent.log(), /ROUTE-REFRESH sent/, 'the agent logs it');
  t.match(await node.ip('route', 'show', 'proto', 'bgp'), /10\.93\.1\.0\/24 via 192\.168\.89\.2/, 'the routes are unchanged');

  const refused = spawnSync('ip', ['netns', 'exec', node.name, process.execPath, NETLET, 'bgp', 'refresh', '192.168.89.77', '--socket', agent.socket], { encoding: 'utf8' });
  t.equal(refused.status, 1, 'a peer that is not configured fails the command');
  t.match(refused.stderr, /192\.168\.89\.77 is not a peer/, 'and says so by name');
});
