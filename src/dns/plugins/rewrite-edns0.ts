import net from 'node:net';
import type { Edns0Rewrite } from '../corefile/front-config.ts';
import { RRType } from '../wire/constants.ts';
import { ipv6Bytes } from '../wire/writer.ts';
import type { WireMessage, WireRecord } from './message.ts';

/** EDNS0 option codes (IANA): NSID (RFC 5001) and Client Subnet (RFC 7871). */
export const EDNS0_NSID = 3;
export const EDNS0_SUBNET = 8;

/** The payload size of the OPT record netlet adds to a query that had none. */
const ADDED_OPT_PAYLOAD = 4096;

interface Option {
  code: number;
  data: Buffer;
}

function optionsOf(opt: WireRecord): Option[] | null {
  const data = Buffer.concat(opt.rdata.map((p) => (Buffer.isBuffer(p) ? p : Buffer.alloc(0))));
  const out: Option[] = [];
  for (let i = 0; i < data.length; ) {
    if (i + 4 > data.length) return null;
    const len = data.readUInt16BE(i + 2);
    if (i + 4 + len > data.length) return null;
    out.push({ code: data.readUInt16BE(i), data: Buffer.from(data.subarray(i + 4, i + 4 + len)) });
    i += 4 + len;
  }
  return out;
}

function optionBytes(options: Option[]): Buffer {
  return Buffer.concat(options.map((o) => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(o.code, 0);
    head.writeUInt16BE(o.data.length, 2);
    return Buffer.concat([head, o.data]);
  }));
}

/** RFC 7871 §6: family, source prefix, scope 0, the address cut to the prefix (whole bytes, the rest zeroed). */
function subnetOption(ip: string, v4Bits: number, v6Bits: number): Buffer | null {
  const plain = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  let bytes: Buffer;
  let family: number;
  let bits: number;
  if (net.isIPv4(plain)) [bytes, family, bits] = [Buffer.from(plain.split('.').map(Number)), 1, v4Bits];
  else if (net.isIPv6(plain)) [bytes, family, bits] = [Buffer.from(ipv6Bytes(plain)), 2, v6Bits];
  else return null;
  const kept = Buffer.from(bytes.subarray(0, Math.ceil(bits / 8)));
  if (bits % 8 !== 0) kept[kept.length - 1] &= 0xff << (8 - (bits % 8));
  const head = Buffer.alloc(4);
  head.writeUInt16BE(family, 0);
  head.writeUInt8(bits, 2);
  head.writeUInt8(0, 3);
  return Buffer.concat([head, kept]);
}

/**
 * Applies `rewrite edns0` rules to a query about to go on, as CoreDNS's
 * README has them: `set` changes the option when the query has it and adds
 * it otherwise, `replace` only changes it, `append` adds it whatever is
 * there. A query without OPT gets one when an option is added. Returns
 * whether anything changed; false too when the client's address is needed
 * (subnet) and unknown, or the OPT's options do not parse.
 */
export function applyEdns0(m: WireMessage, rules: Edns0Rewrite[], clientIp: string | null): boolean {
  let opt = m.additional.find((r) => r.type === RRType.OPT);
  let options = opt ? optionsOf(opt) : [];
  if (!options) return false;
  let changed = false;
  for (const rule of rules) {
    const data = rule.option === 'subnet' ? (clientIp ? subnetOption(clientIp, rule.v4Bits, rule.v6Bits) : null) : Buffer.from(rule.data, 'hex');
    if (!data) continue;
    const at = options.findIndex((o) => o.code === rule.code);
    if (rule.action === 'append' || (rule.action === 'set' && at < 0)) options = [...options, { code: rule.code, data }];
    else if (at >= 0) options[at] = { code: rule.code, data };
    else continue;
    changed = true;
  }
  if (!changed) return false;
  if (!opt) {
    opt = { name: '.', type: RRType.OPT, class: ADDED_OPT_PAYLOAD, ttl: 0, rdata: [] };
    m.additional.push(opt);
  }
  opt.rdata = [optionBytes(options)];
  return true;
}
