// Issue 13: what the kernel refuses when legacy iptables-restore hands it a
// table (at the COMMIT line) names no plan's line, and used to fail the
// whole sync: every service of the family stayed unprogrammed. Now the
// backend bisects the plans with restores into a namespace of their own and
// names the one refused (commit-bisect.ts); the proxier leaves it out and
// programs the rest (family-sync.ts, test/unit/proxier/exclude-plan.test.ts).
//
// No plan netlet renders today makes the kernel refuse it (names are hashed,
// numbers checked), so the refusal is provoked: iptables-restore is run
// through a wrapper that adds, to the rules of the Service "evil" only, an
// xt_recent match whose list name holds a '/', which iptables accepts and
// the kernel refuses at COMMIT (the real causes: a match module or a check
// the node's kernel lacks or makes). Real legacy iptables, real kernel, in
// the node namespace of topology.ts.
import t from 'tap';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootSkip } from '../../helpers/netns.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import { ep, plan, planSet } from '../../unit/iptables/plans.ts';
import { BackendDriver } from '../proxier/backend-driver.ts';
import { buildTopology, get } from './topology.ts';

t.test('a plan the kernel refuses at COMMIT (legacy) is named by bisection; the rest loads without it', { skip: rootSkip() }, async (t) => {
  const topo = await buildTopology('ipc');
  t.teardown(() => topo.lab.cleanup());
  const dir = await mkdtemp(join(tmpdir(), 'nlipc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const wrapper = join(dir, 'iptables-restore-refusing-evil');
  await writeFile(wrapper, `#!/bin/sh\nsed 's#--comment "default/evil:http cluster IP"#& -m recent --name evil/x --set#' | exec iptables-legacy-restore "$@"\n`);
  await chmod(wrapper, 0o755);

  const web = plan('default', 'web', { clusterIP: '10.96.0.10', clusterEndpoints: [ep('10.244.1.2', 8080)] });
  const evil = plan('default', 'evil', { clusterIP: '10.96.0.12', clusterEndpoints: [ep('10.244.2.2', 8080)] });
  const api = plan('default', 'zapi', { clusterIP: '10.96.0.11', clusterEndpoints: [ep('10.244.2.2', 8080)] });
  const others = Array.from({ length: 13 }, (_, i) => plan('default', `s${i}`, { clusterIP: `10.96.2.${i + 1}`, clusterEndpoints: [ep('10.244.1.2', 8080)] }));

  const driver = new BackendDriver(topo, new URL('./wrapped-driver.ts', import.meta.url), [wrapper]);
  t.teardown(() => driver.stop());
  const err = await driver.sync(planSet(web, ...others, evil, api), { full: true }).catch((e: unknown) => e as Error & { planKey?: string });
  t.ok(err instanceof Error, 'the sync with it fails');
  t.match((err as Error).message, /line \d+ failed[\s\S]*around line \d+:[\s\S]*COMMIT/, `at the COMMIT line, which no plan wrote: ${(err as Error).message.slice(0, 300)}`);
  t.equal((err as { planKey?: string }).planKey, planKey(evil), 'the bisection names the plan the kernel refuses');
  t.notMatch(await topo.node.exec('iptables-legacy-save', ['-t', 'nat']), /KUBE-SVC/, 'the bisection wrote nothing into the node (legacy restores are all or nothing, and the probes run elsewhere)');

  await driver.sync(planSet(web, ...others, api), { full: true });
  t.match(await get(topo.cpod, 'http://10.96.0.10/'), /^pod1 /, 'web served without it');
  t.match(await get(topo.cpod, 'http://10.96.0.11/'), /^pod2 /, 'and the plan after it');
  await driver.cleanup();
});
