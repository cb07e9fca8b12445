// A tiny netlink attribute (struct nlattr) encoder for the nested attributes
// the `netlink` package leaves as raw buffers (IFLA_LINKINFO, veth peer info,
// bridge port info). Layout per include/uapi/linux/netlink.h: u16 len, u16
// type, payload, padded to 4 bytes.

export const NLA_F_NESTED = 0x8000;

export type AttrValue = Buffer | string | AttrList;
export type AttrList = Array<[type: number, value: AttrValue]>;

const pad4 = (n: number): number => (n + 3) & ~3;

export function encodeAttrs(list: AttrList): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of list) {
    const payload = Array.isArray(value)
      ? encodeAttrs(value)
      : typeof value === 'string'
        ? Buffer.from(value + '\0')
        : value;
    const head = Buffer.alloc(4);
    head.writeUInt16LE(4 + payload.length, 0);
    head.writeUInt16LE(Array.isArray(value) ? type | NLA_F_NESTED : type, 2);
    parts.push(head, payload, Buffer.alloc(pad4(payload.length) - payload.length));
  }
  return Buffer.concat(parts);
}

/** One attribute, header and padding included: for the codecs that build their messages from parts (ctnetlink, IPVS). */
export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc(pad4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export const nested = (type: number, children: Buffer[]): Buffer => attr(type | NLA_F_NESTED, Buffer.concat(children));

export const u8 = (v: number): Buffer => Buffer.from([v]);
export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

/** Walks a buffer of attributes: type (flags stripped) → payload. */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4) break;
    out.set(type, buf.subarray(off + 4, off + len));
    off += pad4(len);
  }
  return out;
}
