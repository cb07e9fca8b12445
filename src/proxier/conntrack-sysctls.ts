// The conntrack sysctls kube-proxy sets at start (cmd/kube-proxy/app/
// conntrack.go), from config.proxy.conntrack: nf_conntrack_max (maxPerCore ×
// CPUs, at least `min`) with the hash table grown to max/4, TCP established
// and close-wait timeouts, tcp_be_liberal, UDP timeouts. A zero leaves the
// kernel's value alone. A value already right is not rewritten. Unlike
// kube-proxy, a failure (read-only /proc in a container, or
// nf_conntrack_max, which the kernel makes read-only outside the initial
// network namespace) is logged and start-up goes on.

import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../base/log.ts';

/** The proxy.conntrack section of the config (durations in ms). */
export interface ConntrackConfig {
  maxPerCore: number;
  min: number;
  tcpEstablishedTimeout: number;
  tcpCloseWaitTimeout: number;
  tcpBeLiberal: boolean;
  udpTimeout: number;
  udpStreamTimeout: number;
}

export interface SysctlPaths {
  /** Normally /proc/sys. */
  procSys: string;
  /** Normally /sys (for /sys/module/nf_conntrack/parameters/hashsize). */
  sys: string;
}

export const defaultSysctlPaths: SysctlPaths = { procSys: '/proc/sys', sys: '/sys' };

/** kube-proxy's getConntrackMax: 0 means leave nf_conntrack_max alone. */
export function conntrackMax(cfg: Pick<ConntrackConfig, 'maxPerCore' | 'min'>, cpus: number): number {
  if (cfg.maxPerCore <= 0) return 0;
  return Math.max(cfg.maxPerCore * cpus, cfg.min);
}

/** The sysctl writes the config asks for, in kube-proxy's order; durations in ms become seconds. */
export function desiredSysctls(cfg: ConntrackConfig, cpus: number): [string, number][] {
  const out: [string, number][] = [];
  const max = conntrackMax(cfg, cpus);
  if (max > 0) out.push(['net/netfilter/nf_conntrack_max', max]);
  const sec = (ms: number) => Math.floor(ms / 1000);
  if (sec(cfg.tcpEstablishedTimeout) > 0) out.push(['net/netfilter/nf_conntrack_tcp_timeout_established', sec(cfg.tcpEstablishedTimeout)]);
  if (sec(cfg.tcpCloseWaitTimeout) > 0) out.push(['net/netfilter/nf_conntrack_tcp_timeout_close_wait', sec(cfg.tcpCloseWaitTimeout)]);
  if (cfg.tcpBeLiberal) out.push(['net/netfilter/nf_conntrack_tcp_be_liberal', 1]);
  if (sec(cfg.udpTimeout) > 0) out.push(['net/netfilter/nf_conntrack_udp_timeout', sec(cfg.udpTimeout)]);
  if (sec(cfg.udpStreamTimeout) > 0) out.push(['net/netfilter/nf_conntrack_udp_timeout_stream', sec(cfg.udpStreamTimeout)]);
  return out;
}

export interface SysctlOutcome {
  name: string;
  value: number;
  result: 'set' | 'unchanged' | 'failed';
  error?: string;
}

async function readInt(path: string): Promise<number | undefined> {
  try {
    return Number((await readFile(path, 'utf8')).trim());
  } catch {
    return undefined;
  }
}

export async function applyConntrackSysctls(
  cfg: ConntrackConfig,
  log: Logger,
  paths: SysctlPaths = defaultSysctlPaths,
  // The node's CPUs, not the process's cpuset: nf_conntrack_max is host-wide (kube-proxy's DetectNumCPU).
  cpuCount: number = cpus().length || 1,
): Promise<SysctlOutcome[]> {
  const outcomes: SysctlOutcome[] = [];
  for (const [name, value] of desiredSysctls(cfg, cpuCount)) {
    const path = join(paths.procSys, name);
    if ((await readInt(path)) === value) {
      outcomes.push({ name, value, result: 'unchanged' });
      continue;
    }
    try {
      await writeFile(path, `${value}\n`);
      outcomes.push({ name, value, result: 'set' });
      log.info({ sysctl: name, value }, 'set conntrack sysctl');
    } catch (err) {
      const msg = (err as Error).message;
      outcomes.push({ name, value, result: 'failed', error: msg });
      log.warn({ sysctl: name, value, err: msg }, 'cannot set conntrack sysctl (read-only /proc, or not the initial network namespace); leaving it as it is');
      continue;
    }
    if (name === 'net/netfilter/nf_conntrack_max') outcomes.push(await growHashsize(value, log, paths));
  }
  return outcomes;
}

/** The hash table should hold max/4 buckets; the kernel allows growing it only from the initial namespace, which the max write just proved. */
async function growHashsize(max: number, log: Logger, paths: SysctlPaths): Promise<SysctlOutcome> {
  const name = 'module/nf_conntrack/parameters/hashsize';
  const path = join(paths.sys, name);
  const want = Math.floor(max / 4);
  const have = await readInt(path);
  if (have !== undefined && have >= want) return { name, value: want, result: 'unchanged' };
  try {
    await writeFile(path, `${want}\n`);
    log.info({ hashsize: want }, 'grew the conntrack hash table');
    return { name, value: want, result: 'set' };
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'cannot grow the conntrack hash table (read-only /sys)');
    return { name, value: want, result: 'failed', error: (err as Error).message };
  }
}
