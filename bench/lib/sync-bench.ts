// What the sync benchmarks of both backends (bench/iptables-sync.ts,
// bench/nftables-sync.ts) share: CPU time of this process and of its
// children around a measured call, and the synthetic services they sync
// (N services × 3 endpoints, TCP, one NodePort in ten).

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MALLOC_ENV, NODE_FLAGS } from '../../bin/runtime-flags.js';
import { planKey } from '../../src/proxier/plan.ts';
import { planDecisions } from '../../src/proxier/plan-builder.ts';
import type { PlanDecisions } from '../../src/proxier/plan-builder.ts';
import type { PlanEndpoint, PlanSet, ServicePortPlan } from '../../src/proxier/plan.ts';

/**
 * CPU seconds used so far by this process and by its waited-for children
 * (iptables-restore/-save, nft): /proc/self/stat cutime+cstime, in clock ticks of
 * 10 ms. The machine is shared, so wall time alone says more about the other
 * load than about netlet; CPU time does not.
 */
export function cpuMs(): { self: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: field 3 is index 0, so cutime (16) and cstime (17) are 13 and 14.
  const children = (Number(fields[13]) + Number(fields[14])) * 10;
  const u = process.cpuUsage();
  return { self: (u.user + u.system) / 1000, children };
}

export interface Measured {
  ms: number;
  selfCpuMs: number;
  childCpuMs: number;
}

/** Wall time and CPU time (this process's and its children's) of `f`. */
export async function measure(f: () => Promise<unknown>): Promise<Measured> {
  const c0 = cpuMs();
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  const c1 = cpuMs();
  return { ms, selfCpuMs: c1.self - c0.self, childCpuMs: c1.children - c0.children };
}

/**
 * `s` as the agent receives it: parsed from the API server's JSON. A
 * template literal makes a rope (V8 cons string) that every Map or Set
 * lookup in the sync would first flatten; the agent's addresses and names
 * are flat strings, so the benchmark's must be too to measure the agent's work.
 */
function asParsedFromJson(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** Endpoint `e` of service `i` (10.128.0.0/10, on node n2). */
export function benchEndpoint(i: number, e: number): PlanEndpoint {
  const n = i * 3 + e;
  return { ip: asParsedFromJson(`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`), port: 8080, isLocal: false, ready: true, serving: true, terminating: false, nodeName: 'n2', zone: '' };
}

/** Service `i` (ns{i % 100}/svc{i}:http at 10.96.0.0/12 + i) with `eps` and `nodePort` (0: none). */
export function benchPlan(i: number, eps: PlanEndpoint[], nodePort: number): ServicePortPlan {
  const facts = {
    servicePortName: `ns${i % 100}/svc${i}:http`, namespace: asParsedFromJson(`ns${i % 100}`), name: asParsedFromJson(`svc${i}`), portName: 'http', protocol: 'tcp', family: 4,
    clusterIP: asParsedFromJson(`10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`), port: 80,
    nodePort,
    externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], loadBalancerSourceRangesIncludeNode: false, healthCheckNodePort: 0, affinityTimeoutSeconds: 0,
    internalTraffic: 'cluster', externalTraffic: 'cluster', allEndpoints: eps, clusterEndpoints: eps, localEndpoints: [], hasAnyEndpoints: true,
    masqueradeAll: false, clusterCIDRs: ['10.128.0.0/10'],
  } satisfies Omit<ServicePortPlan, keyof PlanDecisions>;
  return { ...facts, ...planDecisions(facts) };
}

/** Services 0..n-1, each with 3 endpoints, service i's NodePort `nodePortOf(i)`. */
export function benchPlans(n: number, nodePortOf: (i: number) => number): PlanSet {
  const plans: PlanSet = new Map();
  for (let i = 0; i < n; i++) {
    const p = benchPlan(i, [0, 1, 2].map((e) => benchEndpoint(i, e)), nodePortOf(i));
    plans.set(planKey(p), p);
  }
  return plans;
}

/**
 * Runs `script --child ARG` in a throwaway network namespace (named
 * PREFIX + 6 hex digits, deleted after; never the host's tables) with the
 * agent's Node flags and malloc settings (bin/runtime-flags.js), as `netlet
 * agent` runs, and returns what it printed on stdout, parsed as JSON.
 */
export function runChildInNetns<T>(prefix: string, script: string, arg: string): T {
  const ns = `${prefix}${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...NODE_FLAGS.split(' '), script, '--child', arg], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      env: { ...process.env, ...MALLOC_ENV },
    });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
