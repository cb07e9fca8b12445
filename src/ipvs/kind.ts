// The IPVS proxy mode as the agent's registry (agent/proxy-backends.ts)
// loads it: the kernel check and the sysctls at start, a backend per
// family, `netlet cleanup` of IPVS state and `netlet trace` over the IPVS
// table.

import { release } from 'node:os';
import type { Family } from '../base/family.ts';
import type { Logger } from '../base/log.ts';
import type { CleanupReport, ProxyBackendKind, SyncPeriods, TraceReport, TraceRequest } from '../proxier/backend-kind.ts';
import { ensureSysctl } from '../netlink/sysctl.ts';
import { IPVS_SCHEDULERS } from '../netlink/ipvs-codec.ts';
import { openIpvs } from '../netlink/ipvs.ts';
import { detectMode, modeOverride } from '../iptables/detect-mode.ts';
import { toolsFor } from '../iptables/tools.ts';
import { ConfigError } from '../base/errors.ts';
import { IpvsBackend } from './backend.ts';
import { KubeIpvs0 } from './dummy-device.ts';
import { nodeAddresses } from './node-addresses.ts';
import { IpsetSync } from './ipsets.ts';
import { IptablesRulesWriter } from './iptables-writer.ts';
import { cleanupIpvs } from './cleanup.ts';

/** What the IPVS backend reads of the config: kube-proxy's ipvs: section and the masquerade bit. */
export interface IpvsOptions {
  scheduler: string;
  excludeCIDRs: string[];
  strictARP: boolean;
  /** IPVS connection timeouts, ms; 0 leaves the kernel's. */
  tcpTimeout: number;
  tcpFinTimeout: number;
  udpTimeout: number;
  masqueradeBit: number;
  tcpBeLiberal: boolean;
  periods: SyncPeriods;
}

export const DEPRECATION =
  'the IPVS proxy mode is deprecated upstream from Kubernetes 1.35 (KEP-5495) in favour of nftables, GA since 1.33: consider --proxy-mode nftables (proxy.mode: nftables)';

/** Checks the options once, so a typo is a clear error at start. */
export function validateIpvsOptions(o: IpvsOptions): void {
  if (!(IPVS_SCHEDULERS as readonly string[]).includes(o.scheduler)) {
    throw new ConfigError('proxy.ipvs.scheduler', `unknown IPVS scheduler ${JSON.stringify(o.scheduler)}; use one of ${IPVS_SCHEDULERS.join(', ')}`);
  }
  for (const c of o.excludeCIDRs) if (!/^[0-9a-fA-F.:]+\/\d+$/.test(c)) throw new ConfigError('proxy.ipvs.excludeCIDRs', `${JSON.stringify(c)} is not a CIDR`);
}

/** kube-proxy's conn_reuse_mode workaround is for kernels 4.1–5.8 only (later ones fixed the slow reuse). */
export function needsConnReuseOff(kernel: string): boolean {
  const [major, minor] = kernel.split('.').map(Number);
  return (major === 4 && minor >= 1) || (major === 5 && minor <= 8);
}

/** The sysctls IPVS mode needs, as kube-proxy sets them. */
function applySysctls(o: IpvsOptions, family: Family, log: Logger): void {
  const wanted: Array<[string, string]> = [
    // Without it IPVS-forwarded packets get no conntrack entry and iptables cannot masquerade them.
    ['net/ipv4/vs/conntrack', '1'],
    // A connection to a deleted real server is dropped at once instead of timing out.
    ['net/ipv4/vs/expire_nodest_conn', '1'],
    // A persistence template pointing at a weight-0 server expires, so affinity moves on.
    ['net/ipv4/vs/expire_quiescent_template', '1'],
    family === 4 ? ['net/ipv4/ip_forward', '1'] : ['net/ipv6/conf/all/forwarding', '1'],
  ];
  if (needsConnReuseOff(release())) wanted.push(['net/ipv4/vs/conn_reuse_mode', '0']);
  // MetalLB and others need the node not to answer ARP for kube-ipvs0's addresses.
  if (o.strictARP) wanted.push(['net/ipv4/conf/all/arp_ignore', '1'], ['net/ipv4/conf/all/arp_announce', '2']);
  for (const [key, value] of wanted) {
    if (ensureSysctl(key, value)) log.info({ sysctl: key, value }, 'sysctl set');
  }
}

export const ipvsKind: ProxyBackendKind<IpvsOptions> = {
  configure(options, env) {
    validateIpvsOptions(options);
    const log = env.log.child({ backend: 'ipvs' });
    log.warn(DEPRECATION);
    const device = new KubeIpvs0();
    let timeoutsSet = false;
    return {
      periods: options.periods,
      async create(family) {
        // The kernel check: a clear error naming the modules when there is no IPVS.
        const table = await openIpvs();
        try {
          applySysctls(options, family, log);
          if (!timeoutsSet) {
            const s = (ms: number) => Math.round(ms / 1000);
            await table.setTimeouts({ tcp: s(options.tcpTimeout), tcpFin: s(options.tcpFinTimeout), udp: s(options.udpTimeout) });
            timeoutsSet = true;
          }
          let mode = modeOverride();
          if (!mode) {
            const found = await detectMode(family);
            log.info({ family, mode: found.mode, reason: found.reason }, 'iptables backend detected');
            mode = found.mode;
          }
          return new IpvsBackend({
            family,
            log,
            scheduler: options.scheduler,
            excludeCIDRs: options.excludeCIDRs,
            masqueradeBit: options.masqueradeBit,
            tcpBeLiberal: options.tcpBeLiberal,
            table,
            ipsets: new IpsetSync(family),
            device,
            rules: new IptablesRulesWriter(toolsFor(mode, family)),
            nodeAddresses,
          });
        } catch (err) {
          table.close();
          throw err;
        }
      },
    };
  },

  async trace(req: TraceRequest): Promise<TraceReport> {
    const { traceIpvs } = await import('./trace.ts');
    return traceIpvs(req);
  },

  async cleanup(opts): Promise<CleanupReport[]> {
    return cleanupIpvs(opts);
  },
};
