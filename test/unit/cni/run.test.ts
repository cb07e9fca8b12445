// runCni end to end without a kernel: the error JSON and exit status for
// failures before any kernel work, with a fake Ipam.
import t from 'tap';
import { runCni, toCniError } from '../../../src/cni/run.ts';
import type { Ipam } from '../../../src/ipam/types.ts';
import { ConfigError, NetletError } from '../../../src/base/errors.ts';

class FakeIpam implements Ipam {
  released: string[] = [];
  async allocate() {
    return [{ address: '10.0.0.2/24', gateway: '10.0.0.1', family: 4 as const, block: '10.0.0.0/24' }];
  }
  async release(id: { containerID: string }) {
    this.released.push(id.containerID);
  }
  async lookup() {
    return [];
  }
  async garbageCollect() {
    return 0;
  }
}

const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'netlet-cni', ipam: { type: 'netlet-ipam' } });
const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/does-not-exist-cni', CNI_IFNAME: 'eth0' };

t.test('errors are JSON on stdout with the config version and a non-zero exit', async (t) => {
  const rows = [
    { name: 'undecodable stdin', env, stdin: '{', code: 6, version: '1.1.0' },
    { name: 'missing env', env: { CNI_COMMAND: 'ADD' }, stdin: conf, code: 4, version: '1.1.0' },
    { name: 'incompatible version answers in that version', env, stdin: conf.replace('1.0.0', '0.1.0'), code: 1, version: '0.1.0' },
    { name: 'netns missing is an I/O failure', env, stdin: conf, code: 5, version: '1.0.0' },
  ];
  for (const r of rows) {
    const out = await runCni(r.env, r.stdin, async () => new FakeIpam());
    t.equal(out.exitCode, 1, `${r.name}: exit`);
    const json = JSON.parse(out.stdout);
    t.equal(json.code, r.code, `${r.name}: code`);
    t.equal(json.cniVersion, r.version, `${r.name}: cniVersion`);
    t.type(json.msg, 'string', `${r.name}: msg`);
  }
});

t.test('an IPAM config error is code 7; a lock timeout is 11', async (t) => {
  const out = await runCni(env, conf, async () => {
    throw new ConfigError('ipam.pools', 'required');
  });
  t.equal(JSON.parse(out.stdout).code, 7);
  t.match(JSON.parse(out.stdout).msg, /ipam\.pools/);
  class LockTimeoutError extends NetletError {}
  t.equal(toCniError(new LockTimeoutError('ERR_LOCK', 'busy')).cniCode, 11);
  t.equal(toCniError(new Error('boom')).cniCode, 100, 'anything else is a plugin error');
});

t.test('VERSION', async (t) => {
  const out = await runCni({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.3.1"}', async () => {
    throw new Error('VERSION must not build the IPAM');
  });
  t.equal(out.exitCode, 0);
  t.same(JSON.parse(out.stdout), { cniVersion: '0.3.1', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  const empty = await runCni({ CNI_COMMAND: 'VERSION' }, '', async () => new FakeIpam());
  t.equal(JSON.parse(empty.stdout).cniVersion, '1.1.0');
});
