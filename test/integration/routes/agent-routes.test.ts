// The same through the real agent: `netlet agent --manifests DIR` with
// routes.enabled, run inside node a's namespace, installs the route to node
// b's block from the manifest folder and follows the folder's changes.
import t from 'tap';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';

const NETLET = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

const nodeYaml = (name: string, ip: string) => `apiVersion: v1
kind: Node
metadata: {name: ${name}}
status:
  addresses: [{type: InternalIP, address: ${ip}}]
  conditions: [{type: Ready, status: "True"}]
`;
const blockYaml = (cidr: string, node: string) => `apiVersion: netlet.io/v1
kind: IPAMBlock
metadata: {name: ${cidr.replace(/[.:/]/g, '-')}}
spec: {cidr: ${cidr}, node: ${node}, pool: default}
`;

t.test('netlet agent --manifests with routes.enabled', { skip: rootSkip(), timeout: 90_000 }, async (t) => {
  const lab = new Lab('ipm');
  t.teardown(() => lab.cleanup());
  const a = await lab.netns('a');
  const b = await lab.netns('b');
  await lab.link(a, b, '192.168.78.1/24', '192.168.78.2/24');

  const dir = t.testdir({ manifests: {} });
  const manifests = join(dir, 'manifests');
  writeFileSync(join(manifests, 'nodes.yaml'), `${nodeYaml('a', '192.168.78.1')}---\n${nodeYaml('b', '192.168.78.2')}`);
  writeFileSync(join(manifests, 'block-a.yaml'), blockYaml('10.245.0.0/26', 'a'));
  writeFileSync(join(manifests, 'block-b.yaml'), blockYaml('10.245.0.64/26', 'b'));
  writeFileSync(join(dir, 'agent.yaml'), 'routes:\n  enabled: true\n  mode: direct\n');

  const agent = lab.track(a.spawn(process.execPath, [NETLET, 'agent', '--config', join(dir, 'agent.yaml'), '--manifests', manifests, '--node-name', 'a', '--proxy-mode', 'none', '--log-level', 'warn']));
  let stderr = '';
  agent.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const owned = () => a.ip('route', 'show', 'proto', '88');

  const first = await eventually(async () => {
    const r = await owned();
    return r.includes('10.245.0.64/26') && r.includes('blackhole 10.245.0.0/26') ? r : '';
  }, 30_000).catch((err) => {
    throw new Error(`${(err as Error).message}; agent stderr: ${stderr.slice(-2000)}`);
  });
  t.match(first, /10\.245\.0\.64\/26 via 192\.168\.78\.2/, "route to b's block");
  t.match(first, /blackhole 10\.245\.0\.0\/26/, 'blackhole for our block');

  rmSync(join(manifests, 'block-b.yaml'));
  await eventually(async () => !(await owned()).includes('10.245.0.64/26'), 30_000);
  t.pass("removing b's block from the folder removes its route");

  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  t.match(await owned(), /blackhole 10\.245\.0\.0\/26/, 'the stopped agent leaves its routes');
});
