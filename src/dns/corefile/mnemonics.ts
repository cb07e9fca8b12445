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
