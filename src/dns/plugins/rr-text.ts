import { isIPv4, isIPv6 } from 'node:net';
import { classNumber, typeNumber } from '../corefile/mnemonics.ts';
import { ipv6Bytes } from '../wire/writer.ts';
import type { RdataPart, WireRecord } from './message.ts';
import { txtData } from './reply.ts';

// One resource record in RFC 1035 §5.1 presentation form ("NAME [TTL]
// [CLASS] TYPE RDATA"), for the record types netlet's zone files and
// templates write: A, AAAA, CNAME, NS, PTR, MX, TXT, SRV, SOA, CAA, SSHFP,
// TLSA, DS, NAPTR. Throws a message naming what is wrong.

const SUPPORTED = 'A, AAAA, CNAME, NS, PTR, MX, TXT, SRV, SOA, CAA, SSHFP, TLSA, DS, NAPTR';

/** Words of a line, keeping "quoted strings" (with \" inside) as one word, quotes kept. */
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? `"${m[1]}"` : m[2]);
  return out;
}

/** `name` made absolute against `origin` ("@" is the origin itself). */
export function qualify(name: string, origin: string): string {
  if (name === '@') return origin;
  if (name.endsWith('.')) return name;
  return origin === '.' ? `${name}.` : `${name}.${origin}`;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Hex digits, as SSHFP, TLSA and DS write their data (blanks inside allowed, RFC 4034 §5.3). */
function hex(parts: string[], what: string): Buffer {
  const text = parts.join('');
  if (text === '' || !/^([0-9a-fA-F]{2})+$/.test(text)) throw new Error(`'${parts.join(' ')}' is not a ${what} in hex`);
  return Buffer.from(text, 'hex');
}

/** One <character-string> (RFC 1035 §3.3): its length, then its bytes. */
function charString(text: string, what: string): Buffer {
  const raw = Buffer.from(text.startsWith('"') ? text.slice(1, -1).replace(/\\(.)/g, '$1') : text);
  if (raw.length > 255) throw new Error(`the ${what} is longer than 255 bytes`);
  return Buffer.concat([Buffer.from([raw.length]), raw]);
}

/** A name in uncompressed wire form: NAPTR's replacement must not be compressed (RFC 3403 §4.1). */
function plainName(name: string): Buffer {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
}

const u8 = (n: number) => Buffer.from([n]);

function number(text: string | undefined, what: string, max: number): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || n > max) throw new Error(`'${text ?? ''}' is not a valid ${what}`);
  return n;
}

function rdata(type: number, args: string[], origin: string): RdataPart[] {
  const name = (i: number) => {
    if (args[i] === undefined) throw new Error('record data is missing a name');
    return { name: qualify(args[i], origin).toLowerCase() };
  };
  const exactly = (n: number) => {
    if (args.length !== n) throw new Error(`expected ${n} field(s) of record data, got ${args.length}`);
  };
  switch (type) {
    case 1:
      exactly(1);
      if (!isIPv4(args[0])) throw new Error(`'${args[0]}' is not an IPv4 address`);
      return [Buffer.from(args[0].split('.').map(Number))];
    case 28:
      exactly(1);
      if (!isIPv6(args[0])) throw new Error(`'${args[0]}' is not an IPv6 address`);
      return [Buffer.from(ipv6Bytes(args[0]))];
    case 2:
    case 5:
    case 12:
      exactly(1);
      return [name(0)];
    case 15:
      exactly(2);
      return [u16(number(args[0], 'MX preference', 65535)), name(1)];
    case 33:
      exactly(4);
      return [Buffer.concat([u16(number(args[0], 'SRV priority', 65535)), u16(number(args[1], 'SRV weight', 65535)), u16(number(args[2], 'SRV port', 65535))]), name(3)];
    case 16: {
      if (args.length === 0) throw new Error('TXT needs at least one string');
      const texts = args.map((a) => (a.startsWith('"') ? a.slice(1, -1).replace(/\\(.)/g, '$1') : a));
      return [txtData(...texts)];
    }
    case 6: {
      exactly(7);
      const timers = args.slice(2).map((a, i) => number(a, ['SOA serial', 'SOA refresh', 'SOA retry', 'SOA expire', 'SOA minimum'][i], 2 ** 32 - 1));
      return [name(0), name(1), Buffer.concat(timers.map(u32))];
    }
    case 257: {
      // CAA FLAGS TAG VALUE (RFC 8659 §4.1): the value runs to the end of the record, no length byte.
      exactly(3);
      if (!/^[A-Za-z0-9]{1,15}$/.test(args[1])) throw new Error(`'${args[1]}' is not a CAA tag`);
      const value = args[2].startsWith('"') ? args[2].slice(1, -1).replace(/\\(.)/g, '$1') : args[2];
      return [Buffer.concat([u8(number(args[0], 'CAA flags', 255)), u8(args[1].length), Buffer.from(args[1]), Buffer.from(value)])];
    }
    case 44:
      // SSHFP ALGORITHM FPTYPE FINGERPRINT (RFC 4255 §3.2).
      if (args.length < 3) throw new Error(`expected 3 field(s) of record data, got ${args.length}`);
      return [Buffer.concat([u8(number(args[0], 'SSHFP algorithm', 255)), u8(number(args[1], 'SSHFP fingerprint type', 255)), hex(args.slice(2), 'SSHFP fingerprint')])];
    case 52:
      // TLSA USAGE SELECTOR MATCHING DATA (RFC 6698 §2.2).
      if (args.length < 4) throw new Error(`expected 4 field(s) of record data, got ${args.length}`);
      return [Buffer.concat([u8(number(args[0], 'TLSA usage', 255)), u8(number(args[1], 'TLSA selector', 255)), u8(number(args[2], 'TLSA matching type', 255)), hex(args.slice(3), 'TLSA association data')])];
    case 43:
      // DS KEYTAG ALGORITHM DIGESTTYPE DIGEST (RFC 4034 §5.3): served as data, netlet signs nothing.
      if (args.length < 4) throw new Error(`expected 4 field(s) of record data, got ${args.length}`);
      return [Buffer.concat([u16(number(args[0], 'DS key tag', 65535)), u8(number(args[1], 'DS algorithm', 255)), u8(number(args[2], 'DS digest type', 255)), hex(args.slice(3), 'DS digest')])];
    case 35:
      // NAPTR ORDER PREFERENCE FLAGS SERVICES REGEXP REPLACEMENT (RFC 3403 §4.1).
      exactly(6);
      return [Buffer.concat([
        u16(number(args[0], 'NAPTR order', 65535)),
        u16(number(args[1], 'NAPTR preference', 65535)),
        charString(args[2], 'NAPTR flags'),
        charString(args[3], 'NAPTR services'),
        charString(args[4], 'NAPTR regexp'),
        plainName(qualify(args[5], origin).toLowerCase()),
      ])];
    default:
      throw new Error(`record type ${type} is not supported here (${SUPPORTED})`);
  }
}

/**
 * A record from its text. `defaults` fills what the line leaves out (the
 * zone file's $TTL and, for a line that starts with blanks, the previous
 * owner, RFC 1035 §5.1; a template's origin).
 */
export function parseRecord(line: string, defaults: { origin: string; ttl: number; owner?: string }): WireRecord {
  const w = words(line);
  let i = 0;
  let owner = defaults.owner;
  if (!/^\s/.test(line)) owner = qualify(w[i++], defaults.origin);
  if (owner === undefined) throw new Error(`'${line}' has no owner name`);
  let ttl = defaults.ttl;
  let klass = 1;
  for (let k = 0; k < 2; k++) {
    if (w[i] !== undefined && /^\d+$/.test(w[i])) ttl = number(w[i++], 'TTL', 2 ** 31 - 1);
    else if (w[i] !== undefined && classNumber(w[i]) !== null && typeNumber(w[i]) === null) klass = classNumber(w[i++])!;
  }
  const type = w[i] === undefined ? null : typeNumber(w[i]);
  if (type === null) throw new Error(`'${w[i] ?? ''}' is not a record type (${SUPPORTED})`);
  return { name: owner, type, class: klass, ttl, rdata: rdata(type, w.slice(i + 1), defaults.origin) };
}
