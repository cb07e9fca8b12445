// An in-process upstream that answers like a recursive resolver (RA=1, its
// own OPT with size 1232 when the query had one) from a table of names, for
// the tests that compare netlet's replies with CoreDNS's (coredns-parity).
import type { Forwarder } from '../../../src/dns/forward/forwarder.ts';
import { Rcode, RRType } from '../../../src/dns/wire/constants.ts';
import { parseQuery } from '../../../src/dns/wire/query.ts';
import type { ResourceRecord } from '../../../src/dns/wire/records.ts';
import { rr } from '../../../src/dns/wire/records.ts';
import { encodeMessage } from '../../../src/dns/wire/writer.ts';

export interface UpstreamName {
  /** Records by qtype name ("A", "AAAA"…); a name listed with no records of a type answers NODATA with an SOA. */
  records: Partial<Record<string, ResourceRecord[]>>;
}

const SOA = rr.soa('example.com.', 60, { mname: 'ns.example.com.', rname: 'admin.example.com.', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 60 });

export class RecursiveUpstream implements Forwarder {
  readonly names = new Map<string, UpstreamName>();
  readonly asked: Array<{ name: string; qtype: number; edns: boolean }> = [];
  /** Answer SERVFAIL to everything while set. */
  failing = false;

  async forward(query: Buffer): Promise<Buffer | null> {
    const p = parseQuery(query);
    if (p.kind !== 'query') return null;
    const q = p.query;
    this.asked.push({ name: q.name, qtype: q.qtype, edns: q.edns !== null });
    const known = this.names.get(q.name);
    const type = Object.entries(RRType).find(([, v]) => v === q.qtype)?.[0] ?? '';
    const answer = this.failing ? [] : (known?.records[type] ?? []);
    const rcode = this.failing ? Rcode.SERVFAIL : known ? Rcode.NOERROR : Rcode.NXDOMAIN;
    const m = encodeMessage({
      id: q.id, queryFlags: q.flags, question: query.subarray(12, q.questionEnd), qname: q.name, rcode,
      authoritative: false, recursionAvailable: true,
      answer, authority: answer.length || this.failing ? [] : [SOA], additional: [],
    });
    if (!q.edns) return Buffer.from(m.bytes);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(RRType.OPT, 1);
    opt.writeUInt16BE(1232, 3);
    const out = Buffer.concat([m.bytes, opt]);
    out.writeUInt16BE(m.arcount + 1, 10);
    return out;
  }
}
