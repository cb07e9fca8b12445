// The nftables proxy mode as the agent's registry (agent/proxy-backends.ts)
// loads it: its sync periods and a backend per family, `netlet cleanup` of
// its tables (and kube-proxy's), and `netlet trace` over the live table.

import type { CleanupReport, ProxyBackendKind, RuleBackendOptions, TraceReport, TraceRequest } from '../proxier/backend-kind.ts';
import { NftablesBackend } from './backend.ts';
import { cleanupTables } from './cleanup.ts';

export const nftablesKind: ProxyBackendKind<RuleBackendOptions> = {
  configure(options, env) {
    const log = env.log.child({ backend: 'nftables' });
    return {
      periods: options.periods,
      create: (family) => new NftablesBackend({ family, log, masqueradeBit: options.masqueradeBit, tcpBeLiberal: options.tcpBeLiberal }),
    };
  },

  async trace(req: TraceRequest): Promise<TraceReport> {
    // Loaded here, not by the agent: only `netlet trace` reads the table back.
    const { traceNftables } = await import('./trace/trace-command.ts');
    return traceNftables(req);
  },

  async cleanup(opts): Promise<CleanupReport[]> {
    return cleanupTables(opts);
  },
};
