// `netlet trace --proxy-mode nftables`: reads netlet's table of the
// destination's family (`nft -j list table`, or --from-file), follows the
// packet (tracer.ts) and says where it goes.

import type { TraceReport, TraceRequest } from '../../proxier/backend-kind.ts';
import { NetletError } from '../../base/errors.ts';
import { systemNft } from '../nft.ts';
import { TABLE, wordsFor } from '../words.ts';
import { parseTableJson } from './table-json.ts';
import { traceTable } from './tracer.ts';
import { describeOutcome, traceHeading } from '../../proxier/trace-outcome.ts';
import type { Outcome } from './tracer.ts';

export async function traceNftables(req: TraceRequest): Promise<TraceReport> {
  const w = wordsFor(req.packet.dst.includes(':') ? 6 : 4);
  let text = req.rulesText;
  if (text === undefined) {
    const r = await systemNft.run(['-j', 'list', 'table', w.ip, TABLE]);
    if (r.code !== 0) throw new NetletError('ERR_NFT', `nft -j list table ${w.ip} ${TABLE} failed: ${r.stderr.trim()}`);
    text = r.stdout;
  }
  const outcomes = traceTable(parseTableJson(text), req.packet, req.localAddresses);
  return { outcomes, describe: (verbose) => describe(req, outcomes, verbose) };
}

function describe(req: TraceRequest, outcomes: readonly Outcome[], verbose: boolean): string {
  const lines = [traceHeading(req.packet, outcomes.length)];
  for (const o of outcomes) {
    lines.push(`  - ${describeOutcome(o)}`);
    if (verbose) lines.push(`      via: ${o.path.join(' -> ')}`);
  }
  return lines.join('\n');
}
