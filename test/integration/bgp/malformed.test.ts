// A peer sending malformed UPDATEs to the agent is answered as RFC 7606 and
// RFC 4271 say: a bad ORIGIN withdraws the message's routes and keeps the
// session; an attribute list longer than the message ends it with
// NOTIFICATION 3/1, which the status and the log name. Other peers' routes
// and the agent stay.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { encodeAnnouncement } from '../../../src/bgp/wire/update-encode.ts';
import { attr, msg, u16, updateBody } from '../../unit/bgp/wire-builders.ts';
import { blockYaml, established, nodeYaml, startAgent } from './bgp-lab.ts';

const RAW_PEER = fileURLToPath(new URL('./raw-peer.ts', import.meta.url));

t.test('malformed UPDATEs from a peer', { skip: rootSkip(), timeout: 120_000 }, async (t) => {
  const lab = new Lab('bgm');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('n');
  const router = await lab.netns('r');
  await lab.link(node, router, '192.168.93.1/24', '192.168.93.2/24');
  const dir = t.testdir({});
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'node.yaml'), nodeYaml('a', '192.168.93.1'));
  writeFileSync(join(manifests, 'block.yaml'), blockYaml('10.248.0.0/26', 'a'));
  const agent = startAgent(t, lab, node, dir, { node: 'a', manifests, config: 'bgp:\n  enabled: true\n  peers:\n    - {peerIP: 192.168.93.2, asNumber: 65003, passive: true}' });

  // The agent listens once its speaker runs (the session then waits in Active).
  await eventually(async () => (await agent.status()).peers[0]?.state === 'Active', 30_000);
  const peer = lab.track(router.spawn(process.execPath, [RAW_PEER, '192.168.93.1', '179', '65003', '64512', '192.168.93.2']));
  const seen: Array<{ type: string; code?: number; subcode?: number }> = [];
  let out = '';
  peer.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const l of lines) if (l) seen.push(JSON.parse(l));
  });
  const send = (b: Buffer | Buffer[]) => peer.stdin?.write(`${Buffer.concat([b].flat()).toString('hex')}\n`);
  await established(agent, 1, 30_000);

  send(encodeAnnouncement({ family: 4, prefixes: ['10.97.1.0/24'], nextHop: ['192.168.93.2'], attributes: { origin: 0, asPath: [{ type: 2, asns: [65003] }] } }, { fourOctetAs: true }));
  const learned = () => node.ip('route', 'show', 'proto', 'bgp');
  await eventually(async () => (await learned()).includes('10.97.1.0/24'), 20_000);
  t.pass('a good UPDATE installs its route');

  const asPath = attr(0x40, 2, [2, 1, 0, 0, 0xfd, 0xeb]);
  send(msg(2, updateBody([], [attr(0x40, 1, [5]), asPath, attr(0x40, 3, [192, 168, 93, 2])], [24, 10, 97, 1])));
  await eventually(async () => !(await learned()).includes('10.97.1.0/24'), 20_000);
  t.equal((await agent.status()).peers[0].state, 'Established', 'ORIGIN 5: the route is withdrawn (RFC 7606 treat-as-withdraw), the session stays');
  t.match(agent.log(), /"reason":"ORIGIN value 5","msg":"bgp: malformed UPDATE treated as withdraw/, 'the log names the error');

  send(msg(2, Buffer.from([0, 0, ...u16(200), 0x40, 1, 1, 0])));
  await eventually(() => seen.some((m) => m.type === 'notification'), 20_000);
  t.match(seen.find((m) => m.type === 'notification'), { code: 3, subcode: 1 }, 'an attribute list past the message: NOTIFICATION 3/1');
  await eventually(async () => /sent NOTIFICATION UPDATE message error \/ malformed attribute list \(3\/1\)/.test((await agent.status()).peers[0].lastError ?? ''), 10_000);
  t.pass('netlet bgp status names the NOTIFICATION');
  t.match(agent.log(), /malformed attribute list/, 'and the log does');
  t.equal(agent.child.exitCode, null, 'the agent keeps running');
});
