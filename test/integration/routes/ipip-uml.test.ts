// IPIP mode needs a kernel with ipip, which this host's lacks: the scenarios
// of ipip-uml-guest.ts run in one User-Mode Linux boot (test/helpers/uml.ts)
// and come back here one assertion each.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assertUmlResults, runInUml } from '../../helpers/uml.ts';
import { rootSkip } from '../../helpers/netns.ts';

const guest = fileURLToPath(new URL('./ipip-uml-guest.ts', import.meta.url));
// One boot runs every scenario: longer than tap's per-file default.
t.setTimeout(600_000);

t.test('ipip mode in User-Mode Linux', { skip: rootSkip(), timeout: 420_000 }, async (t) => {
  // The guest's root is read-only: the CNI bundle it runs is built here first.
  execFileSync(process.execPath, ['scripts/build.ts'], { stdio: 'inherit' });
  const run = await runInUml({
    script: guest,
    modules: ['ipip', 'vxlan', 'veth', 'bridge', 'ip_tables', 'iptable_raw', 'xt_tcpudp'],
    timeoutMs: 400_000,
  });
  assertUmlResults(t, run, [
    'ipip: tunl0 and the routes through it',
    'ipip: pod → pod across subnets with full-size DF packets',
    'direct: across subnets fails; tunl0 is left down, bare and unmarked',
    'ipip cross-subnet: plain to the same subnet, tunl0 to the other',
    'a node that leaves loses its route',
    'underlay MTU 9000: tunl0 8980, pods 8980, DF packets cross',
    'direct → vxlan → ipip → direct leaves no device behind',
    'netlet cleanup undoes tunl0',
    'ipip + bgp: learned routes via tunl0, pods ping across subnets',
  ]);
  t.equal(run.timedOut, false, 'the guest halted by itself');
});
