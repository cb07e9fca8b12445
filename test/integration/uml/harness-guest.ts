// Inside User-Mode Linux (through test/helpers/uml.ts): the kernel features
// the UML suites rely on, checked where they run, plus one scenario that
// fails on purpose so the host can check failures come back as failures.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { runScenarios, scenario } from '../../helpers/uml-guest.ts';

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

scenario('IPVS is there', () => {
  assert.ok(existsSync('/proc/net/ip_vs'), '/proc/net/ip_vs exists once ip_vs is loaded');
  run('ipvsadm', ['-A', '-t', '10.99.0.1:80', '-s', 'rr']);
  assert.match(run('ipvsadm', ['-Ln']), /TCP {2}10\.99\.0\.1:80 rr/);
  run('ipvsadm', ['-C']);
});

scenario('dummy and ipip devices can be made', () => {
  run('ip', ['link', 'add', 'uml-dummy', 'type', 'dummy']);
  assert.match(run('ip', ['-d', 'link', 'show', 'uml-dummy']), /dummy/);
  run('ip', ['link', 'del', 'uml-dummy']);
  run('ip', ['link', 'add', 'uml-ipip', 'type', 'ipip', 'local', '192.0.2.1', 'remote', '192.0.2.2']);
  assert.match(run('ip', ['-d', 'link', 'show', 'uml-ipip']), /ipip/);
  run('ip', ['link', 'del', 'uml-ipip']);
});

scenario('namespaces stay in the guest', (s) => {
  run('ip', ['netns', 'add', 'uml-probe']);
  assert.ok(existsSync('/run/netns/uml-probe'));
  run('ip', ['netns', 'exec', 'uml-probe', 'ip', 'link', 'set', 'lo', 'up']);
  run('ip', ['netns', 'exec', 'uml-probe', 'ping', '-c1', '-W1', '127.0.0.1']);
  run('ip', ['netns', 'del', 'uml-probe']);
  s.data.kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
});

if (process.env.UML_SELFTEST_FAIL) {
  scenario('fails on purpose', () => {
    assert.equal(1, 2, 'this scenario fails on purpose');
  });
}

process.exitCode = await runScenarios();
