// Record type and class mnemonics as Corefiles write them (RFC 1035 §3.2.2,
// §3.2.4 and later registrations), and the RFC 3597 TYPEnnn / CLASSnnn forms.

const TYPES: Record<string, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35, DS: 43, SSHFP: 44, TLSA: 52,
  RRSIG: 46, NSEC: 47, DNSKEY: 48, SVCB: 64, HTTPS: 65, CAA: 257, AXFR: 252, IXFR: 251, ANY: 255,
};
const CLASSES: Record<string, number> = { IN: 1, CH: 3, CHAOS: 3, HS: 4, NONE: 254, ANY: 255 };

/** A type's number, or null when `text` is none. */
export function typeNumber(text: string): number | null {
  const t = text.toUpperCase();
  if (t in TYPES) return TYPES[t];
  const m = /^TYPE(\d{1,5})$/.exec(t);
  return m && Number(m[1]) <= 65535 ? Number(m[1]) : null;
}

export function classNumber(text: string): number | null {
  const c = text.toUpperCase();
  if (c in CLASSES) return CLASSES[c];
  const m = /^CLASS(\d{1,5})$/.exec(c);
  return m && Number(m[1]) <= 65535 ? Number(m[1]) : null;
}

// The header rcodes (RFC 1035 §4.1.1, RFC 2136 §2.2). 16 and up live in the OPT record (RFC 6891 §6.1.3).
const RCODES: Record<string, number> = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10,
};
const EXTENDED_RCODES = new Set(['BADSIG', 'BADVERS', 'BADKEY', 'BADTIME', 'BADMODE', 'BADNAME', 'BADALG', 'BADTRUNC', 'BADCOOKIE']);

/** A header rcode's number (name or 0-15); throws naming the extended ones netlet does not rewrite. */
export function rcodeNumber(text: string): number {
  const r = text.toUpperCase();
  if (r in RCODES) return RCODES[r];
  if (/^\d{1,2}$/.test(r) && Number(r) <= 15) return Number(r);
  if (EXTENDED_RCODES.has(r) || /^\d+$/.test(r)) throw new Error(`rcode '${text}' is an extended rcode (16 and up, carried in the OPT record): netlet rewrites only header rcodes 0-15`);
  throw new Error(`'${text}' is not an rcode`);
}
