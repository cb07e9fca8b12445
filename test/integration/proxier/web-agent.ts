// The agent tests of both backends (iptables/agent.test.ts,
// nftables/agent.test.ts) in the node namespace of iptables/topology.ts: one
// Service web at 10.96.0.10:80 served by the pods' 8080, from a manifest
// folder; the agent started with a config file beside it.

import type * as Tap from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { eventually } from '../../helpers/netns.ts';
import { nodeYaml, serviceYaml, sliceYaml } from '../../helpers/manifest-yaml.ts';
import { buildTopology, curlCode, requestLoop } from '../iptables/topology.ts';
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
 * Stops the running agent `first` under a continuous request loop to web,
 * starts the next with `start`, waits for its first full sync and 10 more
 * requests. `during` is the requests counted when the first had exited.
 */
export async function restartUnderRequestLoop(topo: Topology, first: ChildProcess, start: () => ChildProcess) {
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
  return { second, during, requests: loop.requests, failures: loop.failures };
}

/** Waits until web answers through its ClusterIP. */
export const webServed = (topo: Topology, timeoutMs: number, intervalMs: number) =>
  eventually(async () => (await curlCode(topo.cpod, 'http://10.96.0.10/', 1)).code === 0, timeoutMs, intervalMs);
