// What a backend's tracer (`netlet trace`) finds of a new connection, in
// the same terms for every backend: the verdict, the endpoint after DNAT,
// whether the source is masqueraded, and the rules on the way; and the
// words `netlet trace` prints for it.

import type { TracePacket } from './backend-kind.ts';

export type TraceVerdict = 'dnat' | 'accept' | 'drop' | 'reject';

/** One way the packet can go. */
export interface TraceOutcome {
  verdict: TraceVerdict;
  /** "ip:port" ("[ip]:port" for IPv6 where the backend writes it so) after DNAT (dnat only). */
  endpoint?: string;
  masqueraded: boolean;
  /** The rules that acted on the packet, in order, in the backend's words (iptables: "table/chain: rule"; nftables: "chain #n"). */
  path: string[];
}

/** An outcome's verdict in words: "DNAT to 10.244.1.2:8080, source kept". */
export function describeOutcome(o: TraceOutcome): string {
  const masq = o.masqueraded ? ', source masqueraded (SNAT to the node)' : ', source kept';
  switch (o.verdict) {
    case 'dnat': return `DNAT to ${o.endpoint}${masq}`;
    case 'accept': return `accepted without DNAT${o.masqueraded ? ', source masqueraded' : ''} (no service rule matched)`;
    case 'drop': return 'dropped';
    case 'reject': return 'rejected (ICMP port unreachable: the client sees "connection refused")';
  }
}

/** The first line of a trace in words: the packet and how many outcomes it has. */
export function traceHeading(pkt: TracePacket, outcomes: number): string {
  return `${pkt.src} -> ${pkt.dst}:${pkt.port}/${pkt.proto}: ${outcomes} possible outcome${outcomes === 1 ? '' : 's'}`;
}
