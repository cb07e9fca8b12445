// `netlet trace --proxy-mode nftables`: not written yet.

import type { TraceReport, TraceRequest } from '../../proxier/backend-kind.ts';
import { NetletError } from '../../base/errors.ts';

export async function traceNftables(_req: TraceRequest): Promise<TraceReport> {
  throw new NetletError('ERR_USAGE', 'netlet trace does not read nftables rules in this version');
}
