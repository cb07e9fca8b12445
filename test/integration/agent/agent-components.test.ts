// Which parts the agent runs follows its config: the CNI fast path serves its
// socket when asked, and a proxy mode this kernel cannot run stops the agent
// with what to do instead of leaving the node without a service proxy.
import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, eventually, rootSkip } from '../../helpers/netns.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/netlet.js');
const FIXTURE = join(ROOT, 'test/fixtures/manifests/basic');
const NODE = join(ROOT, 'node_modules/.bin/node');

t.setTimeout(120_000);

async function agent(t: Test, config: object) {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-components-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'agent.json');
  await writeFile(file, JSON.stringify({ healthzBindAddress: '127.0.0.1:0', metricsBindAddress: '127.0.0.1:0', ...config }));
  const proc = spawn(NODE, [BIN, 'agent', '--config', file, '--manifests', FIXTURE, '--proxy-mode', 'none', '--node-name', 'n1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  t.teardown(async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await exit;
    }
  });
  return { dir, proc, exit, stderr: () => err };
}

t.test('cni.serve: the agent answers on the CNI socket', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-cnisock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const socket = join(dir, 'cni.sock');
  const a = await agent(t, { cni: { serve: true, socket } });
  await eventually(() => existsSync(socket), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; agent said: ${a.stderr()}`);
  });
  await new Promise<void>((resolve, reject) => {
    const c = connect(socket, () => {
      c.end();
      resolve();
    });
    c.on('error', reject);
  });
  t.pass('a client connects to the socket');
  t.match(a.stderr(), /cni-server/, 'the log says the CNI server runs');
  a.proc.kill('SIGTERM');
  t.equal(await a.exit, 0, 'clean shutdown');
});

t.test('proxy.mode ipvs on a kernel without IPVS stops, naming the modules to load', {
  skip: rootSkip() || (existsSync('/proc/net/ip_vs') ? 'this kernel has IPVS (the IPVS mode itself is tested in User-Mode Linux)' : false),
}, async (t) => {
  const lab = new Lab('ipvsno');
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('node');
  const dir = await mkdtemp(join(tmpdir(), 'netlet-ipvs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'agent.json');
  await writeFile(file, JSON.stringify({ healthzBindAddress: '127.0.0.1:0', metricsBindAddress: '127.0.0.1:0', proxy: { mode: 'ipvs' } }));
  const proc = lab.track(node.spawn(NODE, [BIN, 'agent', '--config', file, '--manifests', FIXTURE, '--node-name', 'n1']));
  let err = '';
  proc.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  t.not(code, 0, 'the agent does not run');
  t.match(err, /the kernel has no IPVS.*modprobe -a ip_vs/, 'the error says what to load');
  t.match(err, /deprecated upstream.*--proxy-mode nftables/, 'and the start log points to nftables');
});
