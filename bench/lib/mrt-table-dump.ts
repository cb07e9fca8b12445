// An MRT TABLE_DUMP_V2 file (RFC 6396) of IPv4 prefixes, one path each from
// one peer: what `gobgp mrt inject global` loads into GoBGP's RIB in one go,
// far faster than one `gobgp global rib add` per prefix.

const TABLE_DUMP_V2 = 13;
const PEER_INDEX_TABLE = 1;
const RIB_IPV4_UNICAST = 2;
/** Peer type bit: the peer's AS is 4 octets. */
const PEER_AS4 = 0x02;

const ipv4 = (ip: string) => Buffer.from(ip.split('.').map(Number));

function record(subtype: number, body: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32BE(Math.floor(Date.now() / 1000), 0);
  head.writeUInt16BE(TABLE_DUMP_V2, 4);
  head.writeUInt16BE(subtype, 6);
  head.writeUInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

/** ORIGIN IGP, AS_PATH one AS_SEQUENCE (4-octet ASNs, as TABLE_DUMP_V2 always writes them), NEXT_HOP. */
function attributes(asPath: number[], nextHop: string): Buffer {
  const path = Buffer.alloc(2 + 4 * asPath.length);
  path[0] = 2;
  path[1] = asPath.length;
  asPath.forEach((as, i) => path.writeUInt32BE(as, 2 + 4 * i));
  return Buffer.concat([Buffer.from([0x40, 1, 1, 0]), Buffer.from([0x40, 2, path.length]), path, Buffer.from([0x40, 3, 4]), ipv4(nextHop)]);
}

/** `count` prefixes of length `length`, one after the other from `first` (an IPv4 address). */
export function consecutivePrefixes(first: string, length: number, count: number): Array<{ address: number; length: number }> {
  const start = ipv4(first).readUInt32BE(0);
  const step = 2 ** (32 - length);
  return Array.from({ length: count }, (_, i) => ({ address: (start + i * step) >>> 0, length }));
}

export const prefixText = (p: { address: number; length: number }): string =>
  `${p.address >>> 24}.${(p.address >>> 16) & 255}.${(p.address >>> 8) & 255}.${p.address & 255}/${p.length}`;

export function tableDump(o: { peer: { routerId: string; address: string; as: number }; asPath: number[]; nextHop: string; prefixes: Array<{ address: number; length: number }> }): Buffer {
  const view = Buffer.alloc(0);
  const index = Buffer.alloc(4 + 2 + view.length + 2 + 1 + 4 + 4 + 4);
  let o2 = 0;
  o2 += ipv4(o.peer.routerId).copy(index, o2);
  o2 = index.writeUInt16BE(view.length, o2);
  o2 = index.writeUInt16BE(1, o2);
  o2 = index.writeUInt8(PEER_AS4, o2);
  o2 += ipv4(o.peer.routerId).copy(index, o2);
  o2 += ipv4(o.peer.address).copy(index, o2);
  index.writeUInt32BE(o.peer.as, o2);
  const attrs = attributes(o.asPath, o.nextHop);
  const parts = [record(PEER_INDEX_TABLE, index)];
  o.prefixes.forEach((p, seq) => {
    const bytes = Math.ceil(p.length / 8);
    const body = Buffer.alloc(4 + 1 + bytes + 2 + 2 + 4 + 2 + attrs.length);
    let at = body.writeUInt32BE(seq, 0);
    at = body.writeUInt8(p.length, at);
    const addr = Buffer.alloc(4);
    addr.writeUInt32BE(p.address, 0);
    at += addr.copy(body, at, 0, bytes);
    at = body.writeUInt16BE(1, at);
    at = body.writeUInt16BE(0, at);
    at = body.writeUInt32BE(Math.floor(Date.now() / 1000), at);
    at = body.writeUInt16BE(attrs.length, at);
    attrs.copy(body, at);
    parts.push(record(RIB_IPV4_UNICAST, body));
  });
  return Buffer.concat(parts);
}
