// Address text <-> the byte buffers netlink carries. Kept here, small and
// dependency-free, because the CNI binary loads it on every call.
import { isIPv4, isIPv6 } from 'node:net';
import { familyOfAddress } from '../base/family.ts';
import type { Family } from '../base/family.ts';

export type { Family };

export const AF_INET = 2;
export const AF_INET6 = 10;

export const afOf = (family: Family): number => (family === 4 ? AF_INET : AF_INET6);

export function ipToBuffer(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new TypeError(`not an IP address: '${ip}'`);
  let text = ip;
  // An IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipToBuffer(v4[1]);
    text = text.slice(0, -v4[1].length) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function bufferToIp(buf: Buffer): string {
  // Hot in conntrack dumps (one call per address): no iterator, no join.
  if (buf.length === 4) return `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(i).toString(16));
  // RFC 5952: compress the longest run of zero groups (length >= 2).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export interface Cidr {
  ip: string;
  prefix: number;
  family: Family;
}

/** "10.0.0.5/24" → {ip, prefix, family}; a bare address gets the full prefix. */
export function parseCidr(text: string): Cidr {
  const [ip, len, extra] = text.split('/');
  if (extra !== undefined) throw new TypeError(`not a CIDR: '${text}'`);
  const family = familyOfAddress(ip);
  const max = family === 4 ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (len !== undefined && !/^\d+$/.test(len))) {
    throw new TypeError(`bad prefix length in '${text}'`);
  }
  return { ip, prefix, family };
}

/** The network address of a CIDR: "10.0.0.5/24" → "10.0.0.0/24". */
export function networkOf(text: string): string {
  const { ip, prefix } = parseCidr(text);
  const buf = ipToBuffer(ip);
  for (let bit = prefix; bit < buf.length * 8; bit++) buf[bit >> 3] &= ~(0x80 >> (bit & 7));
  return `${bufferToIp(buf)}/${prefix}`;
}

export function formatMac(buf: Buffer | undefined): string {
  return buf ? Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join(':') : '';
}

/** "66:0a:…" → its six bytes. */
export const macToBuffer = (mac: string): Buffer => Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
