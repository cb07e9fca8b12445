import { rr } from './records.ts';
import type { ResourceRecord } from './records.ts';
import { HEADER_SIZE, RRClass, RRType } from './constants.ts';

// Reads the A, AAAA and CNAME records of a reply from elsewhere (an
// upstream's answer for an ExternalName target), so they can be re-encoded
// into our own reply. Anything malformed yields null: the caller then
// answers with what it has.

const MAX_POINTER_HOPS = 64;

/** A possibly compressed name (RFC 1035 §4.1.4), lowercased; null when malformed or looping. */
export function readName(buf: Buffer, offset: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  let hops = 0;
  let length = 0;
  for (;;) {
    if (pos >= buf.length) return null;
    const len = buf[pos];
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length || ++hops > MAX_POINTER_HOPS) return null;
      if (end < 0) end = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1];
      continue;
    }
    if (len & 0xc0 || pos + 1 + len > buf.length) return null;
    length += len + 1;
    if (length > 255) return null;
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len).toLowerCase());
    pos += len + 1;
  }
  return { name: labels.length ? `${labels.join('.')}.` : '.', end };
}

function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** The answer section's A, AAAA and CNAME records, or null if the reply cannot be read. */
export function readAnswerAddresses(reply: Buffer): { rcode: number; records: ResourceRecord[] } | null {
  if (reply.length < HEADER_SIZE) return null;
  const qdcount = reply.readUInt16BE(4);
  const ancount = reply.readUInt16BE(6);
  let pos = HEADER_SIZE;
  for (let i = 0; i < qdcount; i++) {
    const q = readName(reply, pos);
    if (!q) return null;
    pos = q.end + 4;
  }
  const records: ResourceRecord[] = [];
  for (let i = 0; i < ancount; i++) {
    const owner = readName(reply, pos);
    if (!owner || owner.end + 10 > reply.length) return null;
    pos = owner.end;
    const type = reply.readUInt16BE(pos);
    const cls = reply.readUInt16BE(pos + 2);
    const ttl = reply.readUInt32BE(pos + 4);
    const rdlen = reply.readUInt16BE(pos + 8);
    const rdata = pos + 10;
    if (rdata + rdlen > reply.length) return null;
    if (cls === RRClass.IN) {
      if (type === RRType.A && rdlen === 4) records.push(rr.a(owner.name, ttl, [...reply.subarray(rdata, rdata + 4)].join('.')));
      else if (type === RRType.AAAA && rdlen === 16) records.push(rr.aaaa(owner.name, ttl, ipv6Text(reply.subarray(rdata, rdata + 16))));
      else if (type === RRType.CNAME) {
        const target = readName(reply, rdata);
        if (!target) return null;
        records.push(rr.cname(owner.name, ttl, target.name));
      }
    }
    pos = rdata + rdlen;
  }
  return { rcode: reply[3] & 0xf, records };
}

/** A query for `name`/`qtype` with recursion desired, to send to the forwarder. */
export function buildQuery(id: number, name: string, qtype: number): Buffer {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, qtype >> 8, qtype & 0xff, 0, RRClass.IN]));
  return Buffer.concat(parts);
}
