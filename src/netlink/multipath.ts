// RTA_MULTIPATH: the next hops of an ECMP route, as the kernel lays them out
// (include/uapi/linux/rtnetlink.h): per hop a struct rtnexthop (u16 length,
// u8 flags, u8 hops, s32 ifindex, host byte order) followed by its own
// attributes, of which netlet writes and reads RTA_GATEWAY.

import { bufferToIp, ipToBuffer } from './ip.ts';

const RTA_GATEWAY = 5;
const RTNH_F_ONLINK = 4;
const align4 = (n: number) => (n + 3) & ~3;

export interface NextHop {
  gateway: string;
  oif?: number;
  onlink?: boolean;
}

export function encodeMultipath(hops: readonly NextHop[]): Buffer {
  const parts: Buffer[] = [];
  for (const h of hops) {
    const gw = ipToBuffer(h.gateway);
    const attrLen = 4 + gw.length;
    const len = 8 + align4(attrLen);
    const b = Buffer.alloc(len);
    b.writeUInt16LE(len, 0);
    b[2] = h.onlink ? RTNH_F_ONLINK : 0;
    b[3] = 0;
    b.writeInt32LE(h.oif ?? 0, 4);
    b.writeUInt16LE(attrLen, 8);
    b.writeUInt16LE(RTA_GATEWAY, 10);
    gw.copy(b, 12);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

export function decodeMultipath(buf: Buffer): NextHop[] {
  const hops: NextHop[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const len = buf.readUInt16LE(at);
    if (len < 8 || at + len > buf.length) break;
    const hop: NextHop = { gateway: '', oif: buf.readInt32LE(at + 4) || undefined, onlink: (buf[at + 2] & RTNH_F_ONLINK) !== 0 };
    let a = at + 8;
    while (a + 4 <= at + len) {
      const alen = buf.readUInt16LE(a);
      const type = buf.readUInt16LE(a + 2);
      if (alen < 4) break;
      if (type === RTA_GATEWAY) hop.gateway = bufferToIp(buf.subarray(a + 4, a + alen));
      a += align4(alen);
    }
    if (hop.gateway) hops.push(hop);
    at += align4(len);
  }
  return hops;
}
