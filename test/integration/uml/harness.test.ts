// The User-Mode Linux harness itself (test/helpers/uml.ts): one boot runs a
// guest script whose scenarios come back one by one, failures included, and
// namespaces made in the guest never appear on the host.
import t from 'tap';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertUmlResults, runInUml } from '../../helpers/uml.ts';
import { rootSkip } from '../../helpers/netns.ts';

const guest = fileURLToPath(new URL('./harness-guest.ts', import.meta.url));

t.test('a UML boot runs the scenarios and reports each', { skip: rootSkip(), timeout: 180_000 }, async (t) => {
  const run = await runInUml({
    script: guest,
    modules: ['ip_vs', 'ip_vs_rr', 'dummy', 'ipip'],
    timeoutMs: 150_000,
    env: { UML_SELFTEST_FAIL: '1' },
  });
  t.equal(run.timedOut, false, 'the guest halted by itself');
  const passing = run.results.filter((r) => r.name !== 'fails on purpose');
  assertUmlResults(t, { ...run, results: passing }, ['IPVS is there', 'dummy and ipip devices can be made', 'namespaces stay in the guest']);
  const failing = run.results.find((r) => r.name === 'fails on purpose');
  t.equal(failing?.ok, false, 'a failing scenario comes back as a failure');
  t.match(failing?.detail ?? '', /fails on purpose/, 'with its message');
  t.equal(run.exitCode, 1, "the guest script's exit status counts the failures");
  t.match(String(passing.find((r) => r.name === 'namespaces stay in the guest')?.data?.kernel), /^6\./, 'the guest runs the UML kernel');
  t.notOk(existsSync('/run/netns/uml-probe'), "the guest's namespace never appeared on the host");
});
