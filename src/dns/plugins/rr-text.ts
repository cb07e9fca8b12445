import { isIPv4, isIPv6 } from 'node:net';
import { classNumber, typeNumber } from '../corefile/mnemonics.ts';
import { ipv6Bytes } from '../wire/writer.ts';
import type { RdataPart, WireRecord } from './message.ts';
import { txtData } from './reply.ts';

// One resource record in RFC 1035 §5.1 presentation form ("NAME [TTL]
// [CLASS] TYPE RDATA"), for the record types netlet's zone files and
// templates write: A, AAAA, CNAME, NS, PTR, MX, TXT, SRV, SOA. Throws a
// message naming what is wrong.

const SUPPORTED = 'A, AAAA, CNAME, NS, PTR, MX, TXT, SRV, SOA';

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
