// netlet's elements (render-plan.ts, in nft syntax) as the bytes nf_tables
// keeps, for the partial syncs written over netlink (element-writer.ts).
// Each shared set's type is known from its name (render-fixed.ts, words.ts).
// A concatenated key or value is its components one after the other, each
// padded to 4 bytes (nft registers): an address in network order, a port
// big-endian then two zero bytes, a protocol number then three, the numgen
// index a host-order u32. Checked against `nft --debug=netlink` in
// test/unit/nftables/element-bytes.test.ts.

import { endianness } from 'node:os';
import { ipToBuffer } from '../netlink/ip.ts';
import { VERDICT } from '../netlink/nftables-codec.ts';
import type { SetElement, Verdict } from '../netlink/nftables-codec.ts';
import type { Element } from './render-plan.ts';
import { HAIRPIN, MASQ_ALL, NO_ENDPOINT_NODEPORTS, NO_ENDPOINT_SERVICES, SERVICE_IPS, SERVICE_NODEPORTS, SYNC_DIGEST, FIREWALL_IPS } from './words.ts';

type Part = 'addr' | 'proto' | 'port' | 'index';

interface SetShape {
  key: Part[];
  /** A map's data: concatenated parts, or a verdict. */
  data?: Part[] | 'verdict';
}

const VIP: Part[] = ['addr', 'proto', 'port'];
const NODEPORT: Part[] = ['proto', 'port'];
const ENDPOINT: Part[] = ['addr', 'port'];

/** The shape of a shared set by its name, or undefined for a set written only through nft (firewall-allow: intervals). */
export function shapeOf(set: string): SetShape | undefined {
  switch (set) {
    case SERVICE_IPS:
    case NO_ENDPOINT_SERVICES:
      return { key: VIP, data: 'verdict' };
    case SERVICE_NODEPORTS:
    case NO_ENDPOINT_NODEPORTS:
      return { key: NODEPORT, data: 'verdict' };
    case MASQ_ALL:
    case FIREWALL_IPS:
      return { key: VIP };
    case HAIRPIN:
      return { key: ['addr', 'addr'] };
    case SYNC_DIGEST:
      return { key: ['addr'] };
  }
  if (set.startsWith('masq-outside-')) return { key: VIP };
  if (/^endpoints-(tcp|udp|sctp)-\d+$/.test(set)) return { key: ['addr', 'port', 'index'], data: ENDPOINT };
  if (/^nodeport-endpoints-(tcp|udp|sctp)-\d+$/.test(set)) return { key: ['port', 'index'], data: ENDPOINT };
  return undefined;
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };
const hostLE = endianness() === 'LE';

function partBytes(part: Part, text: string): Buffer {
  switch (part) {
    case 'addr':
      return ipToBuffer(text);
    case 'proto': {
      const n = PROTOCOLS[text];
      if (n === undefined) throw new Error(`not a protocol: ${text}`);
      return Buffer.from([n, 0, 0, 0]);
    }
    case 'port': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(wholeNumber(text, 0xffff), 0);
      return b;
    }
    case 'index': {
      const b = Buffer.alloc(4);
      if (hostLE) b.writeUInt32LE(wholeNumber(text, 0xffffffff), 0);
      else b.writeUInt32BE(wholeNumber(text, 0xffffffff), 0);
      return b;
    }
  }
}

function wholeNumber(text: string, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > max) throw new Error(`not a number up to ${max}: ${text}`);
  return n;
}

function concat(parts: Part[], text: string): Buffer {
  const words = text.split(' . ');
  if (words.length !== parts.length) throw new Error(`expected ${parts.length} parts: ${text}`);
  return Buffer.concat(parts.map((p, i) => partBytes(p, words[i])));
}

function verdict(text: string): Verdict {
  if (text === 'drop' || text === 'accept') return { code: VERDICT[text] };
  const m = /^(goto|jump) (\S+)$/.exec(text);
  if (!m) throw new Error(`not a verdict: ${text}`);
  return { code: VERDICT[m[1] as 'goto' | 'jump'], chain: m[2] };
}

/** The element as bytes, or undefined when its set is written only through nft. Throws on an element that does not fit its set. */
export function elementBytes(e: Element): SetElement | undefined {
  const shape = shapeOf(e.set);
  if (!shape) return undefined;
  const key = concat(shape.key, e.key);
  if (!shape.data) {
    if (e.value) throw new Error(`${e.set} is a set, got a value: ${e.value}`);
    return { key };
  }
  return { key, data: shape.data === 'verdict' ? verdict(e.value) : concat(shape.data, e.value) };
}
