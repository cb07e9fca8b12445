// The agent tests of both backends (iptables/agent.test.ts,
// nftables/agent.test.ts) in the node namespace of iptables/topology.ts: one
// Service web at 10.96.0.10:80 served by the pods' 8080, from a manifest
// folder; the agent started with a config file beside it.

import type * as Tap from 'tap';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { eventually } from '../../helpers/netns.ts';
import { nodeYaml, serviceYaml, sliceYaml } from '../../helpers/manifest-yaml.ts';
import { buildTopology, curlCode, get, requestLoop } from '../iptables/topology.ts';
import type { Topology } from '../iptables/topology.ts';
import { startAgent } from './agent-process.ts';
import type { AgentOptions } from './agent-process.ts';

export const webManifests = (endpoints: string[]) =>
  [
    nodeYaml('node1', '192.168.100.1'),
    serviceYaml('default', 'web', '10.96.0.10', { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }),
    sliceYaml('default', 'web', 'web-1', { name: 'http', port: 8080, protocol: 'TCP' }, endpoints.map((ip) => ({ ip, nodeName: 'node1' }))),
  ].join('---\n');

/** The pod that answered ("<name> <client address>"). */
export const podOf = (body: string) => body.split(' ')[0];

/** A topology named `name`, a manifest folder with web on pod1 and pod2, and `config` written beside it. */
export async function setupWebAgent(t: Tap.Test, name: string, config: string) {
  const topo = await buildTopology(name);
  t.teardown(() => topo.lab.cleanup());
  const dir = await mkdtemp(join(tmpdir(), `nl${name}-`));
  const cfg = join(dir, '..', `${dir.split('/').pop()}.yaml`);
  await writeFile(cfg, config);
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, webManifests(['10.244.1.2', '10.244.2.2']));
  return { topo, dir, cfg, file };
}

/** The agent in the node namespace, reading `dir` with config `cfg`, plus `args`. */
export function startWebAgent(t: Tap.Test, topo: Topology, dir: string, cfg: string, args: string[] = [], opts: AgentOptions = {}): ChildProcess {
  return startAgent(t, topo.lab, topo.node, ['--config', cfg, '--manifests', dir, '--node-name', 'node1', ...args], opts).child;
}

/**
 * Starts an agent with `start` and waits until web is served; then, under a
 * continuous request loop to web, stops it, starts the next, waits for its
 * first full sync and 10 more requests, and stops that one too (and, with
 * awaitExit, waits for it to exit). `during` is the requests counted when the
 * first had exited.
 */
export async function restartUnderRequestLoop(topo: Topology, start: () => ChildProcess, opts: { awaitExit?: boolean } = {}) {
  const first = start();
  await webServed(topo, 30_000, 200);

  const loop = requestLoop(topo.cpod, 'http://10.96.0.10/');
  await eventually(() => loop.requests >= 5, 10_000, 50);
  first.kill('SIGTERM');
  await new Promise((r) => first.once('exit', r));
  const during = loop.requests;
  const second = start();
  // Until the new agent's first full sync and for a while after.
  await eventually(async () => (await topo.node.exec('curl', ['-s', 'http://127.0.0.1:20249/metrics'], { allowFail: true })).includes('kubeproxy_sync_full_proxy_rules_duration_seconds_count'), 30_000, 200);
  const synced = loop.requests;
  await eventually(() => loop.requests >= synced + 10, 20_000, 50);
  await loop.stop();
  second.kill('SIGTERM');
  if (opts.awaitExit) await new Promise((r) => second.once('exit', r));
  return { during, requests: loop.requests, failures: loop.failures };
}

/** The pods that answered `n` requests to web, in order. */
export async function podsAnswering(topo: Topology, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(podOf(await get(topo.cpod, 'http://10.96.0.10/')));
  return out;
}

/** Waits until web answers through its ClusterIP. */
export const webServed = (topo: Topology, timeoutMs: number, intervalMs: number) =>
  eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, timeoutMs, intervalMs);

/** Waits until a round of 12 requests to web is answered by both pods. */
export const bothPodsAnswer = (topo: Topology) =>
  eventually(async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(podOf(await get(topo.cpod, 'http://10.96.0.10/')));
    return seen.size === 2;
  }, 30_000, 200);

/** Rewrites the manifest `file` with web's endpoints (written beside it and renamed over it, so the agent never reads half a file). */
export async function setWebEndpoints(file: string, endpoints: string[]): Promise<void> {
  await writeFile(`${file}.tmp`, webManifests(endpoints));
  await rename(`${file}.tmp`, file);
}
