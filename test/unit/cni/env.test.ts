import t from 'tap';
import { parseCniArgs, parseEnv } from '../../../src/cni/env.ts';
import { CniError } from '../../../src/cni/errors.ts';

const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' };

t.test('CNI_ARGS parsing', async (t) => {
  const rows: Array<{ name: string; text: string; want: Record<string, string> }> = [
    { name: 'empty', text: '', want: {} },
    {
      name: 'kubernetes args',
      text: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc',
      want: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0', K8S_POD_INFRA_CONTAINER_ID: 'abc' },
    },
    { name: 'value with =', text: 'A=b=c', want: { A: 'b=c' } },
    { name: 'trailing ;', text: 'A=1;', want: { A: '1' } },
    { name: 'empty value', text: 'A=', want: { A: '' } },
  ];
  for (const r of rows) t.same(parseCniArgs(r.text), r.want, r.name);
  t.throws(() => parseCniArgs('A=1;junk'), { cniCode: 4 } as object as Error, 'a pair without = is an invalid environment');
});

t.test('environment per command', async (t) => {
  const rows: Array<{ name: string; env: Record<string, string>; code?: number }> = [
    { name: 'ADD complete', env: base },
    { name: 'no CNI_COMMAND', env: { ...base, CNI_COMMAND: '' }, code: 4 },
    { name: 'unknown command', env: { ...base, CNI_COMMAND: 'FROB' }, code: 4 },
    { name: 'ADD without netns', env: { ...base, CNI_NETNS: '' }, code: 4 },
    { name: 'ADD without container id', env: { ...base, CNI_CONTAINERID: '' }, code: 4 },
    { name: 'CHECK without ifname', env: { ...base, CNI_COMMAND: 'CHECK', CNI_IFNAME: '' }, code: 4 },
    { name: 'DEL without netns is fine', env: { ...base, CNI_COMMAND: 'DEL', CNI_NETNS: '' } },
    { name: 'ifname too long', env: { ...base, CNI_IFNAME: 'a234567890123456' }, code: 4 },
    { name: 'ifname with slash', env: { ...base, CNI_IFNAME: 'a/b' }, code: 4 },
    { name: 'VERSION needs nothing', env: { CNI_COMMAND: 'VERSION' } },
    { name: 'STATUS needs nothing', env: { CNI_COMMAND: 'STATUS' } },
  ];
  for (const r of rows) {
    if (r.code === undefined) {
      t.equal(parseEnv(r.env).command, r.env.CNI_COMMAND, r.name);
    } else {
      try {
        parseEnv(r.env);
        t.fail(`${r.name}: expected code ${r.code}`);
      } catch (err) {
        t.ok(err instanceof CniError, r.name);
        t.equal((err as CniError).cniCode, r.code, r.name);
      }
    }
  }
  const env = parseEnv({ ...base, CNI_ARGS: 'K8S_POD_NAME=a', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' });
  t.same(env.args, { K8S_POD_NAME: 'a' });
  t.same(env.path, ['/opt/cni/bin', '/usr/lib/cni']);
});
