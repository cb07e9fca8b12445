// The parts of `npm run bench`: which script, with which sizes for --quick,
// the default run and --full, and how long each may take. The default sizes
// are chosen so the whole default run stays within 10 minutes on the 2-core
// machine this project is developed on; --full adds the big rows (30k
// services and the like) that take longer.

import { join } from 'node:path';

export type Mode = 'quick' | 'default' | 'full';

export interface Part {
  name: string;
  /** The group `--only` selects it by (several parts can share one). */
  group: string;
  script: string;
  /** Node flags before the script. */
  nodeFlags?: string[];
  args(mode: Mode, outDir: string): string[];
  timeoutSeconds: number;
  /** Run after a failed part to remove what it may have left (namespaces, processes). */
  cleanupArgs?: string[];
}

const by = (m: Mode, quick: string[], def: string[], full: string[] = def) => (m === 'quick' ? quick : m === 'full' ? full : def);

export const PARTS: Part[] = [
  {
    name: 'iperf3 through netlet (data path)',
    group: 'iperf',
    script: 'bench/iperf.ts',
    args: (m) => by(m, ['--seconds', '2', '--repeat', '1'], ['--seconds', '3', '--repeat', '3'], ['--seconds', '5', '--repeat', '5']),
    timeoutSeconds: 240,
    cleanupArgs: ['--down'],
  },
  {
    name: 'route tunnels (pod → pod per route mode beside the hand-built tunnel and direct; programming latency)',
    group: 'routes',
    script: 'bench/route-tunnels.ts',
    args: (m) => by(m, ['--seconds', '2', '--repeat', '1', '--latency', '2'], ['--seconds', '3', '--repeat', '5', '--latency', '5'], ['--seconds', '5', '--repeat', '7', '--latency', '10']),
    timeoutSeconds: 300,
    cleanupArgs: ['--down'],
  },
  {
    name: 'iptables sync (full, partial, restore floor)',
    group: 'proxy',
    script: 'bench/iptables-sync.ts',
    args: (m, out) => [
      ...by(m, ['--sizes', '1000', '--monolithic-max', '1000'], ['--sizes', '1000,10000', '--monolithic-max', '1000'], ['--sizes', '1000,10000,30000']),
      '--json', join(out, 'iptables-sync.json'),
    ],
    timeoutSeconds: 600,
  },
  {
    name: 'nftables sync (full, resync, restart, partial; nft -f floor; kube-proxy layout; first-packet cost)',
    group: 'proxy',
    script: 'bench/nftables-sync.ts',
    // kube-proxy's layout grows quadratically: loaded up to 1k by default (44 s at 10k with --full).
    args: (m) => by(m, ['--sizes', '1000', '--anchor-max', '1000'], ['--sizes', '1000,10000', '--anchor-max', '1000'], ['--sizes', '1000,10000,30000', '--anchor-max', '10000']),
    timeoutSeconds: 600,
  },
  {
    name: 'network programming latency (watch event → rules, and API write → rules)',
    group: 'proxy',
    script: 'bench/programming-latency.ts',
    // 100 changes make a p99 that is not just the maximum; --full takes 200 on both backends.
    args: (m) => by(m, ['--services', '1000', '--changes', '10', '--modes', 'nft'], ['--services', '10000', '--changes', '100', '--gap-ms', '300', '--modes', 'nft'], []),
    timeoutSeconds: 600,
  },
  { name: 'proxier plans (no kernel)', group: 'proxy', script: 'bench/proxier.ts', args: () => [], timeoutSeconds: 120 },
  { name: 'conntrack cleanup (ctnetlink)', group: 'proxy', script: 'bench/conntrack.ts', args: () => [], timeoutSeconds: 120 },
  {
    name: 'API watch sync',
    group: 'watch',
    script: 'bench/watch.ts',
    args: (m) => by(m, ['--services', '2000', '--nodes', '1000', '--events', '5000'], []),
    timeoutSeconds: 300,
  },
  { name: 'watch event decoding', group: 'watch', script: 'bench/convert.ts', args: () => [], timeoutSeconds: 120 },
  {
    name: 'snapshot write/read',
    group: 'state',
    script: 'bench/snapshot.ts',
    args: (m) => by(m, ['--sizes', '1000x10'], ['--sizes', '1000x10,10000x10'], []),
    timeoutSeconds: 180,
  },
  { name: 'manifest folder', group: 'state', script: 'bench/manifests.ts', args: () => [], timeoutSeconds: 120 },
  {
    name: 'test API server',
    group: 'api',
    script: 'bench/apiserver.ts',
    args: (m) => by(m, ['--services', '2000', '--nodes', '1000', '--updates', '10000'], []),
    timeoutSeconds: 300,
  },
  {
    name: 'CNI ADD/DEL vs reference plugins',
    group: 'cni',
    script: 'bench/cni.ts',
    args: (m) => by(m, ['--pods', '20', '--cold', '5'], ['--pods', '50', '--cold', '15'], []),
    timeoutSeconds: 300,
  },
  {
    name: 'IPAM',
    group: 'ipam',
    script: 'bench/ipam.ts',
    args: (m) => by(m, ['--allocs', '10000', '--disk', '100', '--procs', '5'], ['--disk', '200', '--procs', '10'], []),
    timeoutSeconds: 180,
  },
  { name: 'BGP propagation (100 speakers, 2 route reflectors)', group: 'bgp', script: 'bench/bgp-mesh.ts', args: (m) => by(m, ['--nodes', '30', '--trials', '10'], ['--nodes', '100', '--trials', '30']), timeoutSeconds: 120 },
  {
    name: 'BGP: 100k prefixes from GoBGP into the kernel, beside BIRD',
    group: 'bgp',
    script: 'bench/bgp-prefixes.ts',
    args: (m) => by(m, ['--prefixes', '20000', '--trials', '1'], ['--prefixes', '100000', '--trials', '3']),
    timeoutSeconds: 600,
  },
  { name: 'DNS codec', group: 'dns', script: 'bench/dns-codec.ts', args: (m) => by(m, ['--warmup', '50'], ['--warmup', '200'], []), timeoutSeconds: 180 },
  { name: 'DNS zone index', group: 'dns', script: 'bench/dns-index.ts', nodeFlags: ['--expose-gc'], args: () => [], timeoutSeconds: 120 },
  { name: 'DNS server (dnsperf)', group: 'dns', script: 'bench/dns-server.ts', args: (m) => [m === 'quick' ? '3' : '8'], timeoutSeconds: 120 },
  {
    name: 'DNS through the agent (dnsperf)',
    group: 'dns',
    script: 'bench/dnsperf.ts',
    // Positional: seconds per dnsperf run, pods in the cluster.
    args: (m) => by(m, ['3', '10000'], ['6', '50000'], []),
    timeoutSeconds: 240,
  },
];

/** The parts `--only a,b` names, by group or script name (`iptables-sync`), in the table's order. */
export function selectParts(only: string | undefined): Part[] {
  if (!only) return PARTS;
  const wanted = only.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set(PARTS.flatMap((p) => [p.group, scriptName(p)]));
  const unknown = wanted.filter((w) => !known.has(w));
  if (unknown.length) throw new Error(`--only: unknown part(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  return PARTS.filter((p) => wanted.includes(p.group) || wanted.includes(scriptName(p)));
}

export const scriptName = (p: Part): string => p.script.replace(/^bench\//, '').replace(/\.ts$/, '');
