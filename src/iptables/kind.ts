// The iptables proxy mode as the agent's registry (agent/proxy-backends.ts)
// loads it: its sync periods and backends, `netlet trace` over iptables-save
// output, and `netlet cleanup` of both iptables flavours.

import { isIP } from 'node:net';
import { NetletError } from '../base/errors.ts';
import type { CleanupReport, ProxyBackendKind, RuleBackendOptions, TraceReport, TraceRequest } from '../proxier/backend-kind.ts';
import { cleanupAll } from './cleanup.ts';
import { detectMode, modeOverride } from './detect-mode.ts';
import { createIptablesBackend } from './index.ts';
import { save } from './restore.ts';
import { toolsFor } from './tools.ts';
import type { IptablesMode } from './tools.ts';

export const iptablesKind: ProxyBackendKind<RuleBackendOptions> = {
  configure(options, env) {
    const log = env.log.child({ backend: 'iptables' });
    return {
      periods: options.periods,
      create: (family) => createIptablesBackend({ family, log, masqueradeBit: options.masqueradeBit, tcpBeLiberal: options.tcpBeLiberal, metrics: env.metrics }),
    };
  },

  async trace(req: TraceRequest): Promise<TraceReport> {
    // Loaded here, not by the agent: only `netlet trace` reads rules back.
    const [{ describeTrace }, { parseSave }, { trace }] = await Promise.all([
      import('./trace/describe.ts'),
      import('./trace/parse.ts'),
      import('./trace/tracer.ts'),
    ]);
    const text = req.rulesText ?? (await liveRules(req.flavour, isIP(req.packet.dst) === 6 ? 6 : 4));
    const outcomes = trace(parseSave(text), req.packet, { localAddresses: req.localAddresses });
    return { outcomes, describe: (verbose) => describeTrace(req.packet, outcomes, verbose) };
  },

  async cleanup(opts): Promise<CleanupReport[]> {
    const reports = await cleanupAll({ kubeProxy: opts.kubeProxy });
    return reports.map((r) => ({ what: `${r.family === 6 ? 'ip6tables' : 'iptables'}-${r.mode}`, unit: 'chain', removed: r.removedChains, error: r.error }));
  },
};

/** The nat and filter tables of the flavour asked for (`--mode`), else NETLET_IPTABLES_MODE, else the detected one. */
async function liveRules(flavour: string | undefined, family: 4 | 6): Promise<string> {
  if (flavour !== undefined && flavour !== 'nft' && flavour !== 'legacy') throw new NetletError('ERR_USAGE', `--mode must be nft or legacy, got ${JSON.stringify(flavour)}`);
  const mode: IptablesMode = (flavour as IptablesMode | undefined) ?? modeOverride() ?? (await detectMode(family)).mode;
  const tools = toolsFor(mode, family);
  return (await save(tools, 'nat')) + (await save(tools, 'filter'));
}
