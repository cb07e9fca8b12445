// The iptables backend's entry point for the proxier.

import type { Registry } from 'prom-client';
import type { Logger } from '../base/log.ts';
import type { ProxyBackend } from '../proxier/backend.ts';
import type { Family } from '../proxier/plan.ts';
import { IptablesBackend } from './backend.ts';
import { detectMode, modeOverride } from './detect-mode.ts';
import { toolsFor } from './tools.ts';
import type { IptablesMode } from './tools.ts';

export { IptablesBackend } from './backend.ts';
export type { IptablesMode } from './tools.ts';

export interface CreateIptablesBackendOptions {
  family: Family;
  log: Logger;
  masqueradeBit: number;
  tcpBeLiberal: boolean;
  metrics?: Registry;
  /** Skip detection (tests, benchmarks); else NETLET_IPTABLES_MODE, else detected. */
  mode?: IptablesMode;
}

export async function createIptablesBackend(opts: CreateIptablesBackendOptions): Promise<ProxyBackend> {
  let mode = opts.mode ?? modeOverride();
  if (!mode) {
    const found = await detectMode(opts.family);
    opts.log.info({ family: opts.family, mode: found.mode, reason: found.reason }, 'iptables backend detected');
    mode = found.mode;
  }
  return new IptablesBackend({ tools: toolsFor(mode, opts.family), log: opts.log, masqueradeBit: opts.masqueradeBit, tcpBeLiberal: opts.tcpBeLiberal, metrics: opts.metrics });
}
