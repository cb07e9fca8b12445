// Outcomes of a trace in words, for `netlet trace`.

import { describeOutcome, traceHeading } from '../../proxier/trace-outcome.ts';
import type { Outcome, Packet } from './tracer.ts';

/** The service rules' comments along a path; the fixed chains' ("kubernetes service portals", …) say nothing about this packet. */
function comments(path: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of path) {
    const m = /--comment "([^"]*)"|--comment (\S+)/.exec(p);
    const c = m ? (m[1] ?? m[2]) : undefined;
    if (c && !c.startsWith('kubernetes ') && out[out.length - 1] !== c) out.push(c);
  }
  return out;
}

export function describeTrace(pkt: Packet, outcomes: readonly Outcome[], verbose = false): string {
  const lines = [traceHeading(pkt, outcomes.length)];
  for (const o of outcomes) {
    lines.push(`  - ${describeOutcome(o)}`);
    const why = comments(o.path);
    if (why.length > 0) lines.push(`      via: ${why.join(' -> ')}`);
    if (verbose) for (const p of o.path) lines.push(`      rule: ${p}`);
    for (const a of o.assumptions) lines.push(`      assumed to match: ${a}`);
  }
  return lines.join('\n');
}
