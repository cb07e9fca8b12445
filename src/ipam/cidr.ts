// IPv4/IPv6 address and prefix arithmetic on bigint: parse, format and "the
// n-th subnet / address", all the allocator needs on every ADD. By hand, as
// plain bigints are cheaper than an IP library's objects per address and cover
// both families (docs/design/cni-speed.md#small-work-per-call).

import { isIPv4, isIPv6 } from 'node:net';

import type { Family } from '../base/family.ts';

export type { Family };

export interface Cidr {
  family: Family;
  /** The network address (host bits zero). */
  base: bigint;
  prefix: number;
}

export const familyBits = (family: Family): number => (family === 4 ? 32 : 128);

export class CidrError extends Error {}

/** Parses an IPv4 or IPv6 address (no prefix, no zone). */
export function parseIp(text: string): { family: Family; value: bigint } {
  if (isIPv4(text)) {
    let v = 0n;
    for (const part of text.split('.')) v = (v << 8n) | BigInt(Number(part));
    return { family: 4, value: v };
  }
  if (isIPv6(text) && !text.includes('%')) return { family: 6, value: parseIPv6(text) };
  throw new CidrError(`${JSON.stringify(text)} is not an IP address`);
}

function parseIPv6(text: string): bigint {
  let groups: number[];
  const tailV4 = text.includes('.') ? text.slice(text.lastIndexOf(':') + 1) : '';
  const head = tailV4 ? `${text.slice(0, text.lastIndexOf(':') + 1)}0:0` : text;
  const halves = head.split('::');
  const left = halves[0] ? halves[0].split(':').map((g) => parseInt(g, 16)) : [];
  if (halves.length === 2) {
    const right = halves[1] ? halves[1].split(':').map((g) => parseInt(g, 16)) : [];
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    groups = left;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (tailV4) {
    v = (v >> 32n) << 32n;
    for (const [i, part] of tailV4.split('.').entries()) v |= BigInt(Number(part)) << BigInt(24 - 8 * i);
  }
  return v;
}

/** Formats an address; IPv6 in the RFC 5952 canonical form (lower case, longest zero run as "::"). */
export function formatIp(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => Number((value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((value >> s) & 0xffffn));
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Parses "a.b.c.d/n" or "x::/n". With `strict` (the default) host bits must
 * be zero, so a typo such as 10.244.1.0/15 is an error instead of silently
 * becoming 10.244.0.0/15.
 */
export function parseCidr(text: string, strict = true): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new CidrError(`${JSON.stringify(text)} is not a CIDR (no "/prefix")`);
  const { family, value } = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > familyBits(family)) {
    throw new CidrError(`${JSON.stringify(text)} has an invalid prefix length`);
  }
  const base = value & prefixMask(family, prefix);
  if (strict && base !== value) {
    throw new CidrError(`${JSON.stringify(text)} has host bits set (did you mean ${formatIp(family, base)}/${prefix}?)`);
  }
  return { family, base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.family, c.base)}/${c.prefix}`;
}

export function prefixMask(family: Family, prefix: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return (all >> BigInt(prefix)) ^ all;
}

/** Number of addresses in the prefix. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(familyBits(c.family) - c.prefix);
}

/** How many subnets of length `subPrefix` the prefix holds. */
export function subnetCount(c: Cidr, subPrefix: number): bigint {
  return 1n << BigInt(subPrefix - c.prefix);
}

/** The `index`-th subnet of length `subPrefix` inside `c`. */
export function subnetAt(c: Cidr, subPrefix: number, index: bigint): Cidr {
  return { family: c.family, base: c.base + (index << BigInt(familyBits(c.family) - subPrefix)), prefix: subPrefix };
}

export function containsIp(c: Cidr, family: Family, value: bigint): boolean {
  return family === c.family && (value & prefixMask(family, c.prefix)) === c.base;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefix <= b.prefix ? a : b;
  const longer = shorter === a ? b : a;
  return containsIp(shorter, longer.family, longer.base);
}
