// NLRI prefixes on the wire (RFC 4271 4.3, RFC 4760 5): a length in bits and
// just enough octets to hold it. Kept as "addr/len" text with host bits zeroed,
// the form the route table and the logs use.

import { formatIp, parseCidr } from '../../ipam/cidr.ts';
import type { Family } from '../../base/family.ts';

export class PrefixError extends Error {}

/**
 * Reads every prefix in buf[start, end). Throws PrefixError when a length
 * exceeds the family's bits or a prefix runs past the end; the caller maps
 * it to the NOTIFICATION its field needs.
 */
export function decodePrefixes(buf: Buffer, start: number, end: number, family: Family): string[] {
  const maxBits = family === 4 ? 32 : 128;
  const out: string[] = [];
  let at = start;
  while (at < end) {
    const bits = buf[at++];
    if (bits > maxBits) throw new PrefixError(`prefix length ${bits} is longer than ${maxBits}`);
    const octets = (bits + 7) >> 3;
    if (at + octets > end) throw new PrefixError(`a /${bits} prefix needs ${octets} octets, ${end - at} left`);
    out.push(family === 4 ? v4Prefix(buf, at, octets, bits) : v6Prefix(buf, at, octets, bits));
    at += octets;
  }
  return out;
}

function v4Prefix(buf: Buffer, at: number, octets: number, bits: number): string {
  let v = 0;
  for (let i = 0; i < 4; i++) v = v * 256 + (i < octets ? buf[at + i] : 0);
  // Host bits past the length are noise a sender may leave (RFC 4271 4.3: "irrelevant").
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  v = (v & mask) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${bits}`;
}

function v6Prefix(buf: Buffer, at: number, octets: number, bits: number): string {
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(i < octets ? buf[at + i] : 0);
  const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
  return `${formatIp(6, v & mask)}/${bits}`;
}

/** The wire form of one prefix ("10.244.1.0/26" → 26, 10, 244, 1). Throws on text that is not a CIDR. */
export function encodePrefix(cidr: string): Buffer {
  const c = parseCidr(cidr, false);
  const octets = (c.prefix + 7) >> 3;
  const out = Buffer.alloc(1 + octets);
  out[0] = c.prefix;
  const total = c.family === 4 ? 4 : 16;
  for (let i = 0; i < octets; i++) out[1 + i] = Number((c.base >> BigInt(8 * (total - 1 - i))) & 0xffn);
  return out;
}

/** The 4 or 16 octets of an address. */
export function encodeAddress(family: Family, text: string): Buffer {
  const c = parseCidr(`${text}/${family === 4 ? 32 : 128}`);
  if (c.family !== family) throw new PrefixError(`${text} is not an IPv${family} address`);
  const n = family === 4 ? 4 : 16;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Number((c.base >> BigInt(8 * (n - 1 - i))) & 0xffn);
  return out;
}

export function decodeAddress(buf: Buffer, at: number, family: Family): string {
  if (family === 4) return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(buf[at + i]);
  return formatIp(6, v);
}
