// What the BGP interop tests share: a netlet agent with bgp.enabled in a
// node namespace (served from a manifest folder), and BIRD or GoBGP in a
// router namespace with a config file the test writes.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, type Lab, type Netns } from '../../helpers/netns.ts';

/** A bridge in its own namespace and one leg per namespace onto it, with the given addresses. */
export async function segment(lab: Lab, legs: Array<[Netns, string]>): Promise<void> {
  const sw = await lab.netns('sw');
  await sw.ip('link', 'add', 'br0', 'type', 'bridge');
  await sw.ip('link', 'set', 'br0', 'up');
  for (const [ns, addr] of legs) {
    const [, swEnd] = await lab.link(ns, sw, addr);
    await sw.ip('link', 'set', swEnd, 'master', 'br0');
  }
}

export const NETLET = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

export const nodeYaml = (name: string, ...ips: string[]) => `apiVersion: v1
kind: Node
metadata: {name: ${name}}
status:
  addresses: [${ips.map((ip) => `{type: InternalIP, address: "${ip}"}`).join(', ')}]
  conditions: [{type: Ready, status: "True"}]
`;

export const blockYaml = (cidr: string, node: string) => `apiVersion: netlet.io/v1
kind: IPAMBlock
metadata: {name: ${cidr.replace(/[.:/]/g, '-')}}
spec: {cidr: "${cidr}", node: ${node}, pool: default}
`;

export interface Agent {
  child: ChildProcess;
  /** Everything the agent logged so far. */
  log(): string;
  socket: string;
  /** `netlet bgp status --json` through the real command. */
  status(): Promise<{ routerId: string; asNumber: number; peers: Array<{ name: string; address: string; asNumber: number; state: string; prefixesReceived: number; prefixesSent: number; lastError?: string }> }>;
  statusText(): Promise<string>;
}

/** Where a test registers its cleanup (tap's t). */
export interface Teardown {
  teardown(fn: () => void): void;
}

/** A short folder for Unix sockets (at most 107 characters of path; the test folder's can be longer), removed at teardown. */
function socketDir(t: Teardown, prefix: string): string {
  const d = mkdtempSync(`/tmp/${prefix}-`);
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Runs `netlet agent` with this config YAML in `ns`, serving `manifests` or reading the API server of `kubeconfig`. */
export function startAgent(t: Teardown, lab: Lab, ns: Netns, dir: string, o: { node: string; config: string } & ({ manifests: string } | { kubeconfig: string })): Agent {
  const socket = join(socketDir(t, 'nlbgp'), `${o.node}.sock`);
  const configFile = join(dir, `agent-${o.node}.yaml`);
  writeFileSync(configFile, `${o.config}\n`.replace(/^bgp:\n/m, `bgp:\n  statusSocket: ${socket}\n`));
  const source = 'manifests' in o ? ['--manifests', o.manifests] : ['--kubeconfig', o.kubeconfig];
  const child = lab.track(ns.spawn(process.execPath, [NETLET, 'agent', '--config', configFile, ...source, '--node-name', o.node, '--proxy-mode', 'none', '--log-level', 'info']));
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  const run = (...args: string[]) => ns.exec(process.execPath, [NETLET, 'bgp', 'status', '--socket', socket, ...args]);
  return { child, log: () => log, socket, status: async () => JSON.parse(await run('--json')), statusText: () => run() };
}

/** Waits for every session of the agent to be Established, naming the agent's log on failure. */
export async function established(agent: Agent, peers = 1, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => {
    const s = await agent.status();
    return s.peers.length === peers && s.peers.every((p) => p.state === 'Established');
  }, timeoutMs).catch((err) => {
    throw new Error(`${(err as Error).message}; agent log: ${agent.log().slice(-3000)}`);
  });
}

export interface Bird {
  child: ChildProcess;
  birdc(...args: string[]): Promise<string>;
}

/** BIRD 2 in `ns` with `conf`; its control socket in `dir`. */
export async function startBird(t: Teardown, lab: Lab, ns: Netns, dir: string, name: string, conf: string): Promise<Bird> {
  const confFile = join(dir, `${name}.conf`);
  const sock = join(socketDir(t, 'nlbird'), `${name}.ctl`);
  writeFileSync(confFile, conf);
  const child = lab.track(ns.spawn('bird', ['-f', '-c', confFile, '-s', sock, '-P', join(dir, `${name}.pid`)]));
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const birdc = (...args: string[]) => ns.exec('birdc', ['-s', sock, ...args]);
  await eventually(() => birdc('show', 'status').then((s) => s.includes('Daemon is up')), 10_000).catch((e) => {
    throw new Error(`BIRD did not start: ${(e as Error).message} ${err}`);
  });
  return { child, birdc };
}

export interface GoBgp {
  child: ChildProcess;
  gobgp(...args: string[]): Promise<string>;
}

/** gobgpd in `ns` with a TOML config; its API on 127.0.0.1:50051 of that namespace. */
export async function startGoBgp(lab: Lab, ns: Netns, dir: string, name: string, toml: string): Promise<GoBgp> {
  const confFile = join(dir, `${name}.toml`);
  writeFileSync(confFile, toml);
  const child = lab.track(ns.spawn('gobgpd', ['-f', confFile, '--api-hosts', '127.0.0.1:50051', '-l', 'warn']));
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (err += d.toString()));
  const gobgp = (...args: string[]) => ns.exec('gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args]);
  await eventually(() => gobgp('global').then((s) => s.includes('AS')), 10_000).catch((e) => {
    throw new Error(`gobgpd did not start: ${(e as Error).message} ${err}`);
  });
  return { child, gobgp };
}
