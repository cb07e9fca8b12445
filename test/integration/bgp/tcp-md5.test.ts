// TCP MD5 signatures (RFC 2385) against BIRD, which sets them with the same
// kernel option: netlet dialling a passive BIRD, BIRD dialling a passive
// netlet (the key on netlet's listener), and a BIRD with another password
// that never gets a session (the kernel drops its unsigned-for-us segments).
// The first peer is a BGPPeer object whose password is a Secret key mounted
// under bgp.secretsDirectory; the others are agent config peers.
// BIRD with a password accepts only signed segments, so an Established
// session proves netlet signs them.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { blockYaml, established, nodeYaml, segment, startAgent, startBird } from './bgp-lab.ts';

const birdConf = (ip: string, route: string, o: { password: string; passive: boolean }) => `router id ${ip};
protocol device {}
protocol static { ipv4; route ${route} blackhole; }
protocol bgp netlet {
  local ${ip} as 65001;
  neighbor 192.168.98.1 as 64512;
  password "${o.password}";
  ${o.passive ? 'passive on;' : ''}
  connect retry time 2;
  ipv4 { import all; export all; };
}
`;

t.test('TCP MD5 with BIRD: both directions, and a wrong password', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  const lab = new Lab('bmd');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('n');
  const r1 = await lab.netns('r1');
  const r2 = await lab.netns('r2');
  const r3 = await lab.netns('r3');
  await segment(lab, [[node, '192.168.98.1/24'], [r1, '192.168.98.11/24'], [r2, '192.168.98.12/24'], [r3, '192.168.98.13/24']]);
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'node.yaml'), `${nodeYaml('a', '192.168.98.1')}---\n${blockYaml('10.247.0.0/26', 'a')}`);
  writeFileSync(join(manifests, 'peer.yaml'), `apiVersion: netlet.io/v1
kind: BGPPeer
metadata: {name: tor-1}
spec:
  peerIP: 192.168.98.11
  asNumber: 65001
  password: {secretKeyRef: {name: bgp-passwords, key: tor-1}}
`);
  // As a Secret volume lays out Secret bgp-passwords (kubectl create secret generic --from-literal=tor-1=...).
  const secrets = join(dir, 'secrets');
  mkdirSync(join(secrets, 'bgp-passwords'), { recursive: true });
  writeFileSync(join(secrets, 'bgp-passwords', 'tor-1'), 'first secret');

  const b1 = await startBird(t, lab, r1, dir, 'r1', birdConf('192.168.98.11', '10.97.1.0/24', { password: 'first secret', passive: true }));
  const b2 = await startBird(t, lab, r2, dir, 'r2', birdConf('192.168.98.12', '10.97.2.0/24', { password: 'second-secret', passive: false }));
  const b3 = await startBird(t, lab, r3, dir, 'r3', birdConf('192.168.98.13', '10.97.3.0/24', { password: 'not-what-netlet-has', passive: false }));
  const agent = startAgent(t, lab, node, dir, {
    node: 'a',
    manifests,
    config: [
      'bgp:',
      '  enabled: true',
      '  nodeToNodeMesh: false',
      `  secretsDirectory: ${secrets}`,
      '  peers:',
      '    - {peerIP: 192.168.98.12, asNumber: 65001, password: second-secret, passive: true}',
      '    - {peerIP: 192.168.98.13, asNumber: 65001, password: netlets-secret}',
    ].join('\n'),
  });
  const started = Date.now();

  const stateOf = async (ip: string) => (await agent.status()).peers.find((p) => p.address === ip)?.state;
  await eventually(async () => (await stateOf('192.168.98.11')) === 'Established' && (await stateOf('192.168.98.12')) === 'Established', 30_000).catch((err) => {
    throw new Error(`${(err as Error).message}: ${agent.log().slice(-3000)}`);
  });
  t.pass('netlet dialling BIRD and BIRD dialling netlet: both Established with their passwords');
  const learned = await eventually(async () => {
    const r = await node.ip('route', 'show', 'proto', 'bgp');
    return r.includes('10.97.1.0/24') && r.includes('10.97.2.0/24') ? r : '';
  }, 20_000);
  t.match(learned, /10\.97\.1\.0\/24 via 192\.168\.98\.11/, 'routes flow over the signed sessions');
  t.match(await eventually(async () => {
    const r = await b1.birdc('show', 'route', '10.247.0.0/26');
    return r.includes('10.247.0.0/26') ? r : '';
  }, 20_000), /10\.247\.0\.0\/26/, "and netlet's block reaches BIRD");
  t.match(await b2.birdc('show', 'protocols', 'netlet'), /Established/, 'BIRD agrees on the session it dialled');

  // The wrong password: both sides dial every 2 s (BIRD) and 5 s (netlet); give them 12 s from the agent's start.
  await new Promise((r) => setTimeout(r, Math.max(0, started + 12_000 - Date.now())));
  t.not(await stateOf('192.168.98.13'), 'Established', 'a wrong password never establishes');
  t.notMatch(await b3.birdc('show', 'protocols', 'netlet'), /Established/, 'BIRD never sees the session either');
  t.notMatch(await node.ip('route', 'show', 'proto', 'bgp'), /10\.97\.3\.0/, 'and nothing is learned from it');
});
