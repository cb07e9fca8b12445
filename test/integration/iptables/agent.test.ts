// The whole agent (manifest folder → proxier → this backend) in the node
// namespace of topology.ts, with real clients: an endpoint removed from its
// EndpointSlice stops receiving new connections, and an agent restart under a
// continuous request loop loses no request (rules are adopted, never flushed).

import t from 'tap';
import type * as Tap from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, rootSkip } from '../../helpers/netns.ts';
import { curlCode } from './topology.ts';
import type { Topology } from './topology.ts';
import { bothPodsAnswer, podsAnswering, restartUnderRequestLoop, setWebEndpoints, setupWebAgent, startWebAgent, webServed } from '../proxier/web-agent.ts';

const CONFIG = `
healthzBindAddress: 127.0.0.1:20256
metricsBindAddress: 127.0.0.1:20249
proxy:
  clusterCIDR: 10.244.0.0/16
`;

const startAgent = (t: Tap.Test, topo: Topology, dir: string, cfg: string) =>
  startWebAgent(t, topo, dir, cfg, ['--proxy-mode', 'iptables'], { env: { ...process.env, NETLET_IPTABLES_MODE: 'nft' } });

const setup = (t: Tap.Test) => setupWebAgent(t, 'ipa', CONFIG);

t.test('an endpoint removed from its slice stops receiving new connections', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg, file } = await setup(t);
  await startAgent(t, topo, dir, cfg);
  await bothPodsAnswer(topo);
  t.pass('both endpoints answer through the ClusterIP');

  await setWebEndpoints(file, ['10.244.2.2']);
  // Wait on the rules themselves: waiting for a run of answers from pod2
  // passed by chance (1 in 64 per try) before the sync and made this flaky.
  await eventually(async () => !(await topo.node.exec('iptables-nft-save', ['-t', 'nat'])).includes('10.244.1.2'), 20_000, 100);
  const after = await podsAnswering(topo, 20);
  t.same([...new Set(after)], ['pod2'], 'every new connection goes to the remaining endpoint');
});

t.test('an agent restart under a continuous request loop loses no request', { skip: rootSkip() }, async (t) => {
  const { topo, dir, cfg } = await setup(t);
  const loop = await restartUnderRequestLoop(topo, () => startAgent(t, topo, dir, cfg));
  t.ok(loop.requests - loop.during >= 10, `requests ran while the agent was down and restarting (${loop.requests - loop.during})`);
  t.equal(loop.failures, 0, `no request failed (${loop.requests} requests)`);
});

t.test('rules flushed by someone else come back within about syncPeriod, with no change to the cluster', { skip: rootSkip() }, async (t) => {
  const { topo, dir } = await setup(t);
  // syncPeriod is how often the canary is polled; fullSyncPeriod stays at its hour, so only the poll can bring the rules back.
  const cfg = join(dir, '..', `${dir.split('/').pop()}-fast.yaml`);
  await writeFile(cfg, `${CONFIG}  iptables: {syncPeriod: 2s, minSyncPeriod: 0s}\n`);
  await startAgent(t, topo, dir, cfg);
  await webServed(topo, 30_000, 200);

  // A firewall reload: every nat chain flushed and deleted, our canary with them.
  await topo.node.exec('iptables-nft', ['-t', 'nat', '-F']);
  await topo.node.exec('iptables-nft', ['-t', 'nat', '-X']);
  const flushedAt = Date.now();
  t.not((await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code, 0, 'the service is down without its rules');
  await eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, 15_000, 100);
  const backAfter = Date.now() - flushedAt;
  t.ok(backAfter < 10_000, `served again ${backAfter} ms after the flush (syncPeriod 2 s)`);
  const nat = await topo.node.exec('iptables-nft-save', ['-t', 'nat']);
  t.match(nat, /:KUBE-PROXY-CANARY /, 'the canary is back');
  t.match(nat, /-A PREROUTING .*-j KUBE-SERVICES/, 'and the jump from PREROUTING');

  // Only mangle's canary deleted (kube-proxy's Monitor watches that one first): noticed and put back too.
  await topo.node.exec('iptables-nft', ['-t', 'mangle', '-X', 'KUBE-PROXY-CANARY']);
  await eventually(async () => /:KUBE-PROXY-CANARY /.test(await topo.node.exec('iptables-nft-save', ['-t', 'mangle'])), 15_000, 200);
  t.match(await topo.node.exec('iptables-nft-save', ['-t', 'mangle']), /:KUBE-PROXY-CANARY /, 'the mangle canary came back');
});
