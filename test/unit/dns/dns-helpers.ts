// Test helpers: build query packets by hand, and read replies with dns2's
// decoder (a codec nobody here wrote) into zone-file text, as CoreDNS's
// test tables do.
import dns2 from 'dns2';
import { ObjectStore } from '../../../src/k8s/store.ts';
import type { AnyObject, Kind } from '../../../src/k8s/objects.ts';
import { ALL_KINDS } from '../../../src/k8s/objects.ts';
import { ClusterDns } from '../../../src/dns/cluster-dns.ts';
import { defaultDnsConfig } from '../../../src/dns/corefile/config.ts';
import type { DnsConfig } from '../../../src/dns/corefile/config.ts';
import { RRType, rcodeName, typeName } from '../../../src/dns/wire/constants.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Packet = (dns2 as any).Packet;

export interface QueryOptions {
  id?: number;
  rd?: boolean;
  /** Add an OPT record with this UDP size. */
  udpSize?: number;
  ednsVersion?: number;
  qclass?: number;
}

export function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    if (!label) continue;
    const b = Buffer.from(label, 'latin1');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function query(name: string, qtype: number | string, opts: QueryOptions = {}): Buffer {
  const type = typeof qtype === 'number' ? qtype : (RRType as Record<string, number>)[qtype];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(opts.id ?? 0x1234, 0);
  header.writeUInt16BE(opts.rd === false ? 0 : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(opts.udpSize ? 1 : 0, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(opts.qclass ?? 1, 2);
  const parts = [header, encodeName(name), q];
  if (opts.udpSize) {
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(opts.udpSize, 3);
    opt[6] = opts.ednsVersion ?? 0;
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

const abs = (n: string) => (n.endsWith('.') ? n : `${n}.`);

function rdata(r: Record<string, unknown>): string {
  switch (r.type) {
    case RRType.A:
    case RRType.AAAA:
      return String(r.address);
    case RRType.CNAME:
    case RRType.PTR:
      return abs(String(r.domain));
    case RRType.NS:
      return abs(String(r.ns));
    case RRType.TXT:
      return ([] as unknown[]).concat(r.data).map((t) => `"${String(t)}"`).join(' ');
    case RRType.SRV:
      return `${r.priority} ${r.weight} ${r.port} ${abs(String(r.target))}`;
    case RRType.SOA:
      return `${abs(String(r.primary))} ${abs(String(r.admin))} SERIAL ${r.refresh} ${r.retry} ${r.expiration} ${r.minimum}`;
    default:
      return '?';
  }
}

export interface Reply {
  id: number;
  rcode: string;
  flags: { aa: boolean; tc: boolean; rd: boolean; ra: boolean; qr: boolean };
  question: string;
  answer: string[];
  authority: string[];
  additional: string[];
  /** The OPT record's UDP size, or 0 when the reply has none. */
  optSize: number;
  /** Extended DNS Error options in the OPT (RFC 8914) as "CODE text". */
  ede: string[];
}

/** The OPT record's TTL field and data, walked by hand (dns2 reads neither), or null. */
function optRecord(buf: Buffer): { ttl: number; rdata: Buffer } | null {
  const skipName = (pos: number): number => {
    while (buf[pos] !== 0) {
      if ((buf[pos] & 0xc0) === 0xc0) return pos + 2;
      pos += buf[pos] + 1;
    }
    return pos + 1;
  };
  let pos = 12;
  for (let i = 0; i < buf.readUInt16BE(4); i++) pos = skipName(pos) + 4;
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  for (let i = 0; i < records; i++) {
    pos = skipName(pos);
    const [type, ttl, len] = [buf.readUInt16BE(pos), buf.readUInt32BE(pos + 4), buf.readUInt16BE(pos + 8)];
    if (type === 41) return { ttl, rdata: buf.subarray(pos + 10, pos + 10 + len) };
    pos += 10 + len;
  }
  return null;
}

/** EDE options (code 15: INFO-CODE, EXTRA-TEXT) in OPT data. */
function edeOptions(rdata: Buffer): string[] {
  const out: string[] = [];
  for (let pos = 0; pos + 4 <= rdata.length; pos += 4 + rdata.readUInt16BE(pos + 2)) {
    if (rdata.readUInt16BE(pos) !== 15) continue;
    const len = rdata.readUInt16BE(pos + 2);
    out.push(`${rdata.readUInt16BE(pos + 4)} ${rdata.subarray(pos + 6, pos + 4 + len).toString('utf8')}`.trimEnd());
  }
  return out;
}

/** A reply as zone-file text lines ("name ttl IN TYPE rdata"); the SOA serial reads SERIAL. */
export function decodeReply(buf: Buffer): Reply {
  const p = Packet.parse(buf);
  const klass = (c: number) => (c === 1 ? 'IN' : c === 3 ? 'CH' : `CLASS${c}`);
  const text = (r: Record<string, unknown>) => `${abs(String(r.name))} ${r.ttl} ${klass(Number(r.class))} ${typeName(Number(r.type))} ${rdata(r)}`;
  const opt = (p.additionals as Array<Record<string, unknown>>).find((r) => r.type === 41);
  const flags = buf.readUInt16BE(2);
  const optRr = opt ? optRecord(buf) : null;
  return {
    id: buf.readUInt16BE(0),
    rcode: rcodeName((flags & 0xf) | (optRr ? (optRr.ttl >>> 24) << 4 : 0)),
    flags: { qr: !!(flags & 0x8000), aa: !!(flags & 0x400), tc: !!(flags & 0x200), rd: !!(flags & 0x100), ra: !!(flags & 0x80) },
    question: p.questions.length ? `${abs(String(p.questions[0].name))} ${typeName(p.questions[0].type)}` : '',
    answer: p.answers.map(text),
    authority: p.authorities.map(text),
    additional: (p.additionals as Array<Record<string, unknown>>).filter((r) => r.type !== 41).map(text),
    optSize: opt ? Number(opt.class) : 0,
    ede: optRr ? edeOptions(optRr.rdata) : [],
  };
}

export function dnsConfig(over: Partial<DnsConfig> = {}): DnsConfig {
  return { ...defaultDnsConfig(), listen: [{ host: '127.0.0.1', port: 0 }], ...over };
}

/** A store holding `objects`, every kind marked synced. */
export function syncedStore(objects: AnyObject[], kinds: readonly Kind[] = ALL_KINDS): ObjectStore {
  const store = new ObjectStore();
  for (const o of objects) store.upsert(o);
  for (const k of kinds) store.markSynced(k);
  return store;
}

/** The address in-process servers say is their own (it names the apex NS; no Service in fixture.ts has it). */
export const SERVER_ADDRESS = '192.0.2.53';

/**
 * A ClusterDns whose index is built but whose sockets are not opened. Its
 * clock stands still, so that answers kept under `cache` do not age between
 * two questions of a slow run (coredns-parity.test.ts moves a clock).
 */
export function inProcessDns(store: ObjectStore, over: Partial<DnsConfig> = {}): ClusterDns {
  const dns = new ClusterDns({ store, config: dnsConfig(over), localAddresses: () => [SERVER_ADDRESS], now: () => 1_000_000 });
  dns.index.start();
  dns.index.onChange(() => dns.handler.invalidate());
  return dns;
}

export async function ask(dns: ClusterDns, name: string, qtype: number | string, opts: QueryOptions = {}): Promise<Reply> {
  const reply = await dns.handler.handle(query(name, qtype, opts), 'udp');
  if (!reply) throw new Error(`no reply for ${name}`);
  return decodeReply(reply);
}
