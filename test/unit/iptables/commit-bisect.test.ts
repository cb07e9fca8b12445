// The bisection of commit-bisect.ts over a fake probe that refuses the
// inputs holding some plans' rules (the real probe, a restore in a namespace
// of its own, runs in test/integration/iptables/commit-refused.test.ts).
import t from 'tap';
import { silentLogger } from '../../../src/base/log.ts';
import { planRefusedAtCommit } from '../../../src/iptables/commit-bisect.ts';
import type { RestoreProbe } from '../../../src/iptables/commit-bisect.ts';
import { toolsFor } from '../../../src/iptables/tools.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import { ep, plan, planSet } from './plans.ts';

const ctx = { family: 4 as const, masqMark: '0x4000', nodePortAddresses: [], tcpBeLiberal: false, largeCluster: false };
const plans = planSet(...Array.from({ length: 21 }, (_, i) => plan('default', `s${i}`, { clusterIP: `10.96.0.${i + 1}`, clusterEndpoints: [ep('10.244.1.2', 8080)] })));
const tools = toolsFor('legacy', 4);

/** A probe refusing an input that holds the rules of all of `together`, or one whose fixed rules are refused; counts its calls. */
function refusing(together: string[], fixed = false): RestoreProbe & { calls: number } {
  const probe = Object.assign(
    async (_: unknown, input: string) => {
      probe.calls++;
      if (fixed) return false;
      return !together.every((name) => input.includes(`"default/${name}:http cluster IP"`));
    },
    { calls: 0 },
  );
  return probe;
}

const rows: { name: string; probe: RestoreProbe & { calls: number }; expect: string | undefined }[] = [
  { name: 'one plan refused', probe: refusing(['s13']), expect: planKey(plans.get([...plans.keys()][13])!) },
  { name: 'the first plan refused', probe: refusing(['s0']), expect: planKey(plans.get([...plans.keys()][0])!) },
  { name: 'the last plan refused', probe: refusing(['s20']), expect: planKey(plans.get([...plans.keys()][20])!) },
  { name: 'only two plans of both halves together', probe: refusing(['s1', 's19']), expect: undefined },
  { name: 'the fixed rules refused (or no namespace can be made)', probe: refusing([], true), expect: undefined },
  { name: 'every plan loads (the failure is the node\'s state)', probe: refusing(['none-such']), expect: undefined },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const key = await planRefusedAtCommit(tools, plans, ctx, silentLogger, row.probe);
    t.equal(key, row.expect);
    t.ok(row.probe.calls <= 2 + 2 * Math.ceil(Math.log2(plans.size)), `${row.probe.calls} probes for ${plans.size} plans`);
  });
}
