// The fast path: the C shim installed as netlet-cni hands each call to
// `netlet cni-server` in the node namespace; with no server it runs the
// Node.js launcher itself. Same results either way.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';
import { installCni } from '../../../src/cni/install.ts';
import { runPlugin } from './plugin-harness.ts';
import { decodeRequest, encodeReply } from '../../../src/cni/server.ts';
import { execFileSync } from 'node:child_process';

t.test('request and reply framing', async (t) => {
  const req = Buffer.concat([Buffer.from('CNI_COMMAND=ADD\0CNI_ARGS=A=1;B=2\0\0'), Buffer.from('{"x":1}')]);
  t.same(decodeRequest(req), { env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'A=1;B=2' }, stdin: '{"x":1}' });
  t.throws(() => decodeRequest(Buffer.from('CNI_COMMAND=ADD')), { cniCode: 4 } as object as Error, 'unterminated environment');
  t.throws(() => decodeRequest(Buffer.from('PATH=/bin\0\0')), { cniCode: 4 } as object as Error, 'only CNI_ variables');
  t.same(encodeReply(1, '{}'), Buffer.from('\x01{}\n'));
});

t.test('the shim through the agent socket, then without it', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('cns');
  const dir = mkdtempSync(join(tmpdir(), 'netlet-cni-shim-'));
  t.teardown(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  execFileSync(process.execPath, ['scripts/build.ts'], { stdio: 'inherit' });
  const socket = join(dir, 'cni.sock');
  const { plugin } = installCni({ binDir: join(dir, 'bin'), confDir: join(dir, 'net.d'), cacheDir: join(dir, 'cache'), agentSocket: socket });
  t.equal(readFileSync(plugin).subarray(0, 4).toString('latin1'), '\x7fELF', 'netlet-cni is the native shim');
  const node = await lab.netns('node');
  const server = lab.track(
    spawn('nsenter', [`--net=/run/netns/${node.name}`, process.execPath, 'bin/netlet.js', 'cni-server', '--socket', socket], { stdio: 'pipe' }),
  );
  await eventually(() => existsSync(socket), 20_000);
  const conf = {
    cniVersion: '1.0.0',
    name: 'netlet-shim',
    type: 'netlet-cni',
    bridge: 'nltbr0',
    ipam: { type: 'netlet-ipam', pools: [{ cidr: '10.208.0.0/16' }], dataDir: join(dir, 'ipam'), blocksFile: join(dir, 'ipam', 'blocks.json'), nodeName: 'node-a' },
  };
  const podA = await lab.netns('pa');
  const podB = await lab.netns('pb');
  const add = (pod: typeof podA, id: string) => runPlugin(plugin, node.name, { command: 'ADD', containerID: id, netns: `/run/netns/${pod.name}`, ifname: 'eth0', conf });

  const a = await add(podA, 'a');
  t.equal(a.code, 0, `ADD through the agent: ${a.stdout}`);
  t.match(await podA.ip('-o', 'addr', 'show', 'dev', 'eth0'), a.json.ips[0].address);
  const bad = await runPlugin(plugin, node.name, { command: 'ADD', containerID: 'x', netns: '/run/netns/none', ifname: 'eth0', conf: { ...conf, mode: 'mesh' } });
  t.equal(bad.code, 1, 'errors come back with a non-zero exit');
  t.equal(bad.json.code, 7, 'and the CNI error JSON');
  const check = await runPlugin(plugin, node.name, { command: 'CHECK', containerID: 'a', netns: `/run/netns/${podA.name}`, ifname: 'eth0', conf: { ...conf, prevResult: a.json } });
  t.equal(check.code, 0, 'CHECK through the agent');

  server.kill('SIGTERM');
  await eventually(() => server.exitCode !== null || server.signalCode !== null, 10_000);
  const b = await add(podB, 'b');
  t.equal(b.code, 0, `ADD with no agent falls back to Node.js: ${b.stdout}`);
  const ping = await podA.exec('ping', ['-c', '1', '-W', '2', String(b.json.ips[0].address).split('/')[0]], { allowFail: true });
  t.match(ping, /1 received/, 'pods from both paths reach each other');
  const del = await runPlugin(plugin, node.name, { command: 'DEL', containerID: 'a', netns: `/run/netns/${podA.name}`, ifname: 'eth0', conf });
  t.equal(del.code, 0, 'DEL without the agent');
});
