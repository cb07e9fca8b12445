// `netlet trace --proxy-mode nftables`: reads netlet's table of the
// destination's family (`nft -j list table`, or --from-file), follows the
// packet (tracer.ts) and says where it goes.

import type { TraceReport, TraceRequest } from '../../proxier/backend-kind.ts';
import { NetletError } from '../../base/errors.ts';
import { systemNft } from '../nft.ts';
import { TABLE, wordsFor } from '../words.ts';
import { parseTableJson } from './table-json.ts';
import { traceTable } from './tracer.ts';
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

function describeOutcome(o: Outcome): string {
  const masq = o.masqueraded ? ', source masqueraded (SNAT to the node)' : ', source kept';
  switch (o.verdict) {
    case 'dnat':
      return `DNAT to ${o.endpoint}${masq}`;
    case 'accept':
      return `accepted without DNAT${o.masqueraded ? ', source masqueraded' : ''} (no service rule matched)`;
    case 'drop':
      return 'dropped';
    case 'reject':
      return 'rejected (ICMP port unreachable: the client sees "connection refused")';
  }
}

function describe(req: TraceRequest, outcomes: readonly Outcome[], verbose: boolean): string {
  const p = req.packet;
  const lines = [`${p.src} -> ${p.dst}:${p.port}/${p.proto}: ${outcomes.length} possible outcome${outcomes.length === 1 ? '' : 's'}`];
  for (const o of outcomes) {
    lines.push(`  - ${describeOutcome(o)}`);
    if (verbose) lines.push(`      via: ${o.path.join(' -> ')}`);
  }
  return lines.join('\n');
}
