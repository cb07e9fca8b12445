import { rcodeName, typeName } from '../wire/constants.ts';
import type { Query } from '../wire/query.ts';

// CoreDNS's `log` plugin line in its default ("common") format
// (plugin/log README):
//   {remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}
// e.g. 127.0.0.1:53977 - 41953 "A IN svc.ns.svc.cluster.local. udp 41 false 512" NOERROR qr,aa,rd 106 0.000116s
// IPv6 clients are bracketed ([::1]:53977), as CoreDNS writes them.

/** Class mnemonics as miekg/dns prints them; others CLASS<n> (RFC 3597). */
function classNameOf(qclass: number): string {
  return qclass === 1 ? 'IN' : qclass === 3 ? 'CH' : qclass === 4 ? 'HS' : qclass === 254 ? 'NONE' : qclass === 255 ? 'ANY' : `CLASS${qclass}`;
}

/** Header flags in the order CoreDNS lists them. */
const FLAGS: Array<[number, string]> = [
  [0x8000, 'qr'],
  [0x0400, 'aa'],
  [0x0200, 'tc'],
  [0x0100, 'rd'],
  [0x0080, 'ra'],
  [0x0040, 'z'],
  [0x0020, 'ad'],
  [0x0010, 'cd'],
];

function replyFlags(reply: Buffer | null): string {
  if (!reply || reply.length < 4) return '-';
  const flags = reply.readUInt16BE(2);
  const out: string[] = [];
  for (const [bit, name] of FLAGS) if (flags & bit) out.push(name);
  return out.join(',');
}

/** Go's strconv.FormatFloat(seconds, 'f', -1, 64): no exponent, no trailing zeros. */
function seconds(ms: number): string {
  const s = (ms / 1000).toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return `${s}s`;
}

export interface QueryLogFields {
  /** "127.0.0.1:53977" or "[::1]:53977". */
  client: string;
  query: Query;
  querySize: number;
  proto: 'udp' | 'tcp';
  rcode: number;
  reply: Buffer | null;
  durationMs: number;
}

export function queryLogLine(f: QueryLogFields): string {
  const q = f.query;
  // The size the reply had to fit (the request's bufsize): 65535 over TCP, 512 without EDNS.
  const bufsize = f.proto === 'tcp' ? 65535 : q.edns ? q.edns.udpSize : 512;
  const dnssecOk = q.edns?.dnssecOk ?? false;
  return (
    `${f.client} - ${q.id} "${typeName(q.qtype)} ${classNameOf(q.qclass)} ${q.name} ${f.proto} ${f.querySize} ${dnssecOk} ${bufsize}" ` +
    `${rcodeName(f.rcode)} ${replyFlags(f.reply)} ${f.reply?.length ?? 0} ${seconds(f.durationMs)}`
  );
}
