// Hand-built BGP bytes for the codec tests: each piece as the RFC draws it,
// so a test can break exactly one field.

export const msg = (type: number, body: Buffer | number[], length?: number): Buffer => {
  const b = Buffer.from(body);
  const out = Buffer.alloc(19 + b.length, 0xff);
  out.writeUInt16BE(length ?? 19 + b.length, 16);
  out[18] = type;
  b.copy(out, 19);
  return out;
};

export const attr = (flags: number, type: number, value: number[] | Buffer): Buffer => {
  const v = Buffer.from(value);
  return flags & 0x10 ? Buffer.concat([Buffer.from([flags, type, v.length >> 8, v.length & 255]), v]) : Buffer.concat([Buffer.from([flags, type, v.length]), v]);
};

export const u16 = (n: number) => [n >> 8, n & 255];
export const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

export const updateBody = (withdrawn: number[], attrs: Buffer[], nlri: number[]): Buffer => {
  const a = Buffer.concat(attrs);
  return Buffer.concat([Buffer.from([...u16(withdrawn.length), ...withdrawn, ...u16(a.length)]), a, Buffer.from(nlri)]);
};

export const ORIGIN_IGP = attr(0x40, 1, [0]);
/** AS_SEQUENCE of 4-octet AS numbers. */
export const asPath4 = (...asns: number[]) => attr(0x40, 2, asns.length ? [2, asns.length, ...asns.flatMap(u32)] : []);
export const asPath2 = (...asns: number[]) => attr(0x40, 2, asns.length ? [2, asns.length, ...asns.flatMap(u16)] : []);
export const nextHop = (...octets: number[]) => attr(0x40, 3, octets);
/** 10.244.1.0/26 as NLRI. */
export const NLRI_A = [26, 10, 244, 1, 0];
/** 10.244.2.0/24 as NLRI. */
export const NLRI_B = [24, 10, 244, 2];

export const openBody = (o: { version?: number; as?: number; hold?: number; id?: number[]; params?: number[] } = {}): Buffer =>
  Buffer.from([o.version ?? 4, ...u16(o.as ?? 64512), ...u16(o.hold ?? 90), ...(o.id ?? [10, 0, 0, 1]), (o.params ?? []).length, ...(o.params ?? [])]);

/** An optional parameter holding one capability. */
export const cap = (code: number, value: number[]) => [2, value.length + 2, code, value.length, ...value];
