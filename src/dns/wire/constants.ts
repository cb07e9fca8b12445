// DNS numbers as data: rcodes and types are these constants, not strings spread around.
// Values from RFC 1035 §3.2.2/§4.1.1, RFC 3596 (AAAA), RFC 2782 (SRV),
// RFC 6891 (OPT, BADVERS).

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  AXFR: 252,
  ANY: 255,
} as const;

export const RRClass = { IN: 1, CH: 3, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended rcode 16 (RFC 6891 §6.1.3): upper 8 bits go in the OPT TTL. */
  BADVERS: 16,
} as const;

export type RcodeValue = (typeof Rcode)[keyof typeof Rcode];

const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
const typeNames = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));

export function rcodeName(rcode: number): string {
  return rcodeNames.get(rcode) ?? `RCODE${rcode}`;
}

/** "A", "SRV", … or RFC 3597's "TYPE<n>" for types we have no name for. */
export function typeName(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

export const HEADER_SIZE = 12;
/** RFC 1035 §4.2.1: without EDNS0 a UDP message is at most 512 bytes. */
export const CLASSIC_UDP_SIZE = 512;
/** RFC 1035 §2.3.4 */
export const MAX_NAME_LENGTH = 255;

// Header flag bits (second 16-bit word).
export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const FLAG_CD = 0x0010;
