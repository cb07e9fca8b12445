// issue 13, point 7: the agent's CNI server (cni.serve) claims IPAM blocks
// with the agent's own connection, the one its --kubeconfig names, not with
// whatever the default chain finds ($KUBECONFIG, ~/.kube/config); and a CNI
// call that fails is logged by the agent, naming the container, its netns
// and the error. The agent is a real process; the kubeconfig is given only
// as its option.
//
// The ADD is handed a plain file as CNI_NETNS: IPAM allocates (claiming a
// block through the API) before any kernel work, then entering the
// "namespace" fails, so the call fails after the claim and touches no link.
import t from 'tap';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startApiServer } from '../../apiserver/server.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { eventually } from '../../helpers/netns.ts';
import { freePort } from '../../helpers/free-port.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/netlet.js');

t.setTimeout(240_000);

/** One call in the shim's wire format (src/cni/server.ts): exit status and the CNI JSON. */
function cniCall(socket: string, env: Record<string, string>, stdin: string): Promise<{ exit: number; json: any }> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    const chunks: Buffer[] = [];
    c.on('data', (d) => chunks.push(d));
    c.on('end', () => {
      const reply = Buffer.concat(chunks);
      resolve({ exit: reply[0], json: JSON.parse(reply.subarray(1).toString() || 'null') });
    });
    c.on('error', reject);
    c.end(Buffer.from(`${Object.entries(env).map(([k, v]) => `${k}=${v}\0`).join('')}\0${stdin}`));
  });
}

interface Scenario {
  name: string;
  /** What ~/.kube/config holds for the agent's process: nothing, or another identity. */
  homeKubeconfig: boolean;
  /** The process serving the socket: the agent (cni.serve) or `netlet cni-server`. */
  server: 'agent' | 'cni-server';
}

const scenarios: Scenario[] = [
  { name: 'no ~/.kube/config (was: ERR_KUBECONFIG_NOT_FOUND, "pass --kubeconfig")', homeKubeconfig: false, server: 'agent' },
  { name: 'a ~/.kube/config with another identity (was: silently used)', homeKubeconfig: true, server: 'agent' },
  { name: 'netlet cni-server --kubeconfig, with another identity in ~/.kube/config', homeKubeconfig: true, server: 'cni-server' },
];

for (const s of scenarios) {
  t.test(s.name, async (t) => {
    const api = await startApiServer({ token: 'agent-token' });
    t.teardown(() => api.close());
    api.setTokens('agent-token', 'home-token');
    const dir = t.testdir();
    const kubeconfig = await writeKubeconfig(join(dir, 'agent.kubeconfig'), { server: api.url, token: 'agent-token' });
    const home = join(dir, 'home');
    await mkdir(join(home, '.kube'), { recursive: true });
    if (s.homeKubeconfig) await writeKubeconfig(join(home, '.kube', 'config'), { server: api.url, token: 'home-token' });
    // A Unix socket path must fit in 108 bytes: not under the test's long fixture folder.
    const socketDir = mkdtempSync(join(tmpdir(), 'netlet-ai-'));
    t.teardown(() => rmSync(socketDir, { recursive: true, force: true }));
    const socket = join(socketDir, 'cni.sock');
    const config = join(dir, 'netlet.yaml');
    await writeFile(
      config,
      [
        `healthzBindAddress: 127.0.0.1:${await freePort()}`,
        `metricsBindAddress: 127.0.0.1:${await freePort()}`,
        'proxy: {mode: none}',
        `cni: {serve: true, socket: ${socket}}`,
        '',
      ].join('\n'),
    );
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, NETLET_LOG_LEVEL: '' };
    const args =
      s.server === 'agent'
        ? ['agent', '--config', config, '--kubeconfig', kubeconfig, '--node-name', 'node-a']
        : ['cni-server', '--socket', socket, '--kubeconfig', kubeconfig];
    const agent: ChildProcess = spawn(NODE, [BIN, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let logs = '';
    agent.stderr!.on('data', (b: Buffer) => (logs += b.toString()));
    const exited = new Promise((r) => agent.once('exit', r));
    t.teardown(async () => {
      if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
      await exited;
    });
    await eventually(() => {
      if (agent.exitCode !== null) throw new Error(`the agent exited (${agent.exitCode})`);
      return existsSync(socket) && /serving netlet-cni calls|listening on/.test(logs);
    }, 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}; agent log:\n${logs}`);
    });

    const notANetns = join(dir, 'not-a-netns');
    await writeFile(notANetns, '');
    const conf = {
      cniVersion: '1.0.0',
      name: 'netlet-identity',
      type: 'netlet-cni',
      ipam: { type: 'netlet-ipam', datastore: 'kubernetes', pools: [{ cidr: '10.210.0.0/16' }], dataDir: join(dir, 'ipam') },
    };
    api.resetStats();
    const reply = await cniCall(
      socket,
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c-identity', CNI_NETNS: notANetns, CNI_IFNAME: 'eth0' },
      JSON.stringify(conf),
    );
    t.equal(reply.exit, 1, 'the ADD fails (its netns is a plain file)');
    t.notMatch(reply.json?.msg, /kubeconfig|KUBECONFIG/, `not for want of a kubeconfig: ${reply.json?.msg}`);

    const claims = api.stats.log().filter((r) => r.resource === 'ipamblocks');
    t.ok(claims.some((r) => r.verb === 'create' && r.code === 201), 'a block was claimed');
    t.same([...new Set(claims.map((r) => r.bearer))], ['agent-token'], 'every claim request used the agent\'s identity');
    t.equal(api.list('ipamblocks').length, 1, 'the claim is in the API');

    if (s.server === 'cni-server') {
      // `netlet cni-server` logs as plain lines on stderr: the command, the container, its netns, the code and the error.
      await eventually(() => logs.includes('c-identity'), 10_000);
      t.match(logs, `ADD of c-identity (netns ${notANetns}) failed: code ${reply.json.code}: ${reply.json.msg}`, 'the failed call is logged');
      return;
    }
    // The failed call in the agent's log: a warning naming the container, its netns and the error.
    const failed = await eventually(
      () =>
        logs
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l))
          .find((l) => l.containerID === 'c-identity'),
      10_000,
    );
    t.equal(failed.level, 40, 'logged at warn');
    t.equal(failed.netns, notANetns, 'names the netns');
    t.equal(failed.command, 'ADD');
    t.equal(failed.code, reply.json.code, 'with the CNI code');
    t.equal(failed.err, reply.json.msg, 'and the error');
  });
}

// Issue 13: when the agent is down, netlet-cni claims blocks itself (the
// launcher behind the shim). It used the network config's ipam.kubeconfig or
// the default chain (here ~/.kube/config, another identity); now the agent
// writes its identity (cni.kubeconfig) where the plugin finds it, and the
// plugin's claims carry the agent's token though the agent has stopped.
t.test("netlet-cni without the agent claims blocks with the identity the agent wrote", async (t) => {
  const { installPlugin } = await import('./plugin-harness.ts');
  const { execFile } = await import('node:child_process');
  const { stat } = await import('node:fs/promises');
  const api = await startApiServer({ token: 'agent-token' });
  t.teardown(() => api.close());
  api.setTokens('agent-token', 'home-token');
  const dir = t.testdir();
  const kubeconfig = await writeKubeconfig(join(dir, 'agent.kubeconfig'), { server: api.url, token: 'agent-token' });
  const home = join(dir, 'home');
  await mkdir(join(home, '.kube'), { recursive: true });
  await writeKubeconfig(join(home, '.kube', 'config'), { server: api.url, token: 'home-token' });
  const published = join(dir, 'run', 'kubeconfig');
  const config = join(dir, 'netlet.yaml');
  await writeFile(
    config,
    [`healthzBindAddress: 127.0.0.1:${await freePort()}`, `metricsBindAddress: 127.0.0.1:${await freePort()}`, 'proxy: {mode: none}', `cni: {kubeconfig: ${published}}`, ''].join('\n'),
  );
  const agent: ChildProcess = spawn(NODE, [BIN, 'agent', '--config', config, '--kubeconfig', kubeconfig, '--node-name', 'node-a'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: home, NETLET_LOG_LEVEL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let logs = '';
  agent.stderr!.on('data', (b: Buffer) => (logs += b.toString()));
  const exited = new Promise((r) => agent.once('exit', r));
  t.teardown(async () => {
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    await exited;
  });
  await eventually(() => existsSync(published) && logs.includes('API identity is written'), 60_000).catch((err) => {
    throw new Error(`${(err as Error).message}; agent log:\n${logs}`);
  });
  t.equal((await stat(published)).mode & 0o777, 0o600, 'only root may read it');
  agent.kill('SIGTERM');
  t.equal(await exited, 0, 'the agent is down');

  const { plugin, cleanup } = installPlugin();
  t.teardown(cleanup);
  const notANetns = join(dir, 'not-a-netns');
  await writeFile(notANetns, '');
  const conf = {
    cniVersion: '1.0.0',
    name: 'netlet-identity',
    type: 'netlet-cni',
    ipam: { type: 'netlet-ipam', datastore: 'kubernetes', nodeName: 'node-a', pools: [{ cidr: '10.211.0.0/16' }], dataDir: join(dir, 'ipam') },
  };
  api.resetStats();
  const env = { PATH: process.env.PATH, HOME: home, NETLET_AGENT_KUBECONFIG: published, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c-fallback', CNI_NETNS: notANetns, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' };
  const reply = await new Promise<{ code: number; out: string }>((resolve) => {
    const child = execFile(plugin, [], { env }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout }));
    child.stdin!.end(JSON.stringify(conf));
  });
  t.equal(reply.code, 1, `the ADD fails (its netns is a plain file): ${reply.out}`);
  t.notMatch(reply.out, /kubeconfig|KUBECONFIG/, 'not for want of a kubeconfig');
  const claims = api.stats.log().filter((r) => r.resource === 'ipamblocks');
  t.ok(claims.some((r) => r.verb === 'create' && r.code === 201), 'the plugin claimed a block itself');
  t.same([...new Set(claims.map((r) => r.bearer))], ['agent-token'], "every claim request used the agent's identity, not ~/.kube/config's");
});
