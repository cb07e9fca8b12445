// A node namespace with two pod namespaces, a client pod and an external
// client, wired with veths and routed through the node (no bridge needed):
//
//   pod1 10.244.1.2 ─┐                 ┌─ ext 192.168.100.2 (external client)
//   pod2 10.244.2.2 ─┼─ node ──────────┘   node IP 192.168.100.1
//   cpod 10.244.3.2 ─┘   (ip_forward, the backend's rules)
//
// Each pod runs a tiny HTTP server answering "<name> <client address>".

import { Lab, eventually } from '../../helpers/netns.ts';
import type { Netns } from '../../helpers/netns.ts';
import { BackendDriver } from '../proxier/backend-driver.ts';

export const NODE_IP = '192.168.100.1';
export const EXT_IP = '192.168.100.2';

export interface Topology {
  lab: Lab;
  node: Netns;
  pod1: Netns;
  pod2: Netns;
  cpod: Netns;
  ext: Netns;
}

const SERVER = `
const http = require('http');
for (const host of ['0.0.0.0', '::']) {
  http.createServer((q, s) => s.end(process.argv[1] + ' ' + q.socket.remoteAddress.replace(/^::ffff:/, ''))).listen({ port: 8080, host, ipv6Only: host === '::' });
}`;

async function pod(lab: Lab, node: Netns, name: string, n: number): Promise<Netns> {
  const p = await lab.netns(name);
  const [, podIf] = await lab.link(node, p, `10.244.${n}.1/24`, `10.244.${n}.2/24`);
  await node.exec('ip', ['-6', 'addr', 'add', `fd00:244:${n}::1/64`, 'dev', (await ifaceTo(node, `10.244.${n}.1`)), 'nodad']);
  await p.ip('-6', 'addr', 'add', `fd00:244:${n}::2/64`, 'dev', podIf, 'nodad');
  await p.ip('route', 'add', 'default', 'via', `10.244.${n}.1`);
  await p.ip('-6', 'route', 'add', 'default', 'via', `fd00:244:${n}::1`);
  return p;
}

async function ifaceTo(ns: Netns, addr: string): Promise<string> {
  const out = await ns.exec('ip', ['-o', '-4', 'addr', 'show']);
  const line = out.split('\n').find((l) => l.includes(` ${addr}/`));
  if (!line) throw new Error(`no interface with ${addr} in ${ns.name}`);
  return line.split(/\s+/)[1];
}

export async function buildTopology(tag: string): Promise<Topology> {
  const lab = new Lab(tag);
  const node = await lab.netns('node');
  await node.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  await node.exec('sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
  const pod1 = await pod(lab, node, 'pod1', 1);
  const pod2 = await pod(lab, node, 'pod2', 2);
  const cpod = await pod(lab, node, 'cpod', 3);
  const ext = await lab.netns('ext');
  await lab.link(node, ext, `${NODE_IP}/24`, `${EXT_IP}/24`);
  // The external client reaches service VIPs (externalIPs, LB IPs) through the node, as a router would send them.
  await ext.ip('route', 'add', '192.0.2.0/24', 'via', NODE_IP);
  for (const [p, name] of [[pod1, 'pod1'], [pod2, 'pod2'], [cpod, 'cpod']] as const) {
    lab.track(p.spawn('node', ['-e', SERVER, name]));
  }
  for (const p of [pod1, pod2, cpod]) await eventually(() => p.exec('curl', ['-s', '--max-time', '1', 'http://127.0.0.1:8080/']), 10_000, 100);
  return { lab, node, pod1, pod2, cpod, ext };
}

/** One HTTP request with curl; returns the body, or throws with curl's exit code (7 = refused, 28 = timeout). */
export async function get(from: Netns, url: string, timeoutS = 2): Promise<string> {
  return from.exec('curl', ['-sS', '-g', '--max-time', String(timeoutS), url]);
}

/** The curl exit code of a request that is expected to fail (0 if it succeeded). */
export async function curlCode(from: Netns, url: string, timeoutS = 2): Promise<{ code: number; ms: number }> {
  const t0 = Date.now();
  const { spawn } = await import('node:child_process');
  const code = await new Promise<number>((resolve) => {
    const c = spawn('ip', ['netns', 'exec', from.name, 'curl', '-sS', '-g', '--max-time', String(timeoutS), url], { stdio: 'ignore' });
    c.on('close', (status) => resolve(status ?? -1));
  });
  return { code, ms: Date.now() - t0 };
}

/** A backend driver process in the node namespace. */
/** Requests `url` from `from` back to back until stopped; counts them and the ones that failed. */
export function requestLoop(from: Netns, url: string): { readonly requests: number; readonly failures: number; stop(): Promise<void> } {
  let running = true;
  const counts = { requests: 0, failures: 0 };
  const loop = (async () => {
    while (running) {
      if ((await curlCode(from, url, 2)).code !== 0) counts.failures++;
      counts.requests++;
    }
  })();
  return {
    get requests() {
      return counts.requests;
    },
    get failures() {
      return counts.failures;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** An iptables backend process (driver.ts) in the topology's node namespace. */
export class Driver extends BackendDriver {
  constructor(topo: Topology, mode: 'nft' | 'legacy', family: 4 | 6 = 4) {
    super(topo, new URL('./driver.ts', import.meta.url), [mode, String(family)]);
  }
}
