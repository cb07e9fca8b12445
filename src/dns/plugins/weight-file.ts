import { isIP, isIPv4 } from 'node:net';
import { ipv6Bytes } from '../wire/writer.ts';

// The weight file of `loadbalance weighted` (CoreDNS plugin/loadbalance
// README): a domain name on a line of its own, then `ADDRESS WEIGHT` lines
// for it, weights 1-255; `#` lines and blank lines are skipped.

/** Weights per owner name (lowercase, absolute), each keyed by the address's bytes in hex. */
export type Weights = Map<string, Map<string, number>>;

/** An address as the hex of its bytes; an IPv4-mapped IPv6 address counts as its IPv4 one (Go's net.IP.Equal). */
export function addressKey(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  if (b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.subarray(12).toString('hex');
  return b.toString('hex');
}

function textKey(address: string): string {
  return addressKey(Uint8Array.from(isIPv4(address) ? address.split('.').map(Number) : ipv6Bytes(address)));
}

/** Reads a weight file's text; throws naming the line that does not parse. */
export function parseWeights(text: string, file: string): Weights {
  const out: Weights = new Map();
  let current: Map<string, number> | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file} line ${i + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length === 1) {
      if (isIP(fields[0])) throw new Error(`${where}: '${fields[0]}' is an address where a domain name is expected (a weight missing?)`);
      const name = (fields[0].endsWith('.') ? fields[0] : `${fields[0]}.`).toLowerCase();
      current = out.get(name) ?? new Map<string, number>();
      out.set(name, current);
    } else if (fields.length === 2) {
      if (!isIP(fields[0])) throw new Error(`${where}: '${fields[0]}' is not an IP address`);
      if (!/^\d{1,3}$/.test(fields[1]) || Number(fields[1]) < 1 || Number(fields[1]) > 255) throw new Error(`${where}: weight '${fields[1]}' is not in [1, 255]`);
      if (!current) throw new Error(`${where}: an address before any domain name`);
      current.set(textKey(fields[0]), Number(fields[1]));
    } else {
      throw new Error(`${where}: '${line}' is neither a domain name nor 'ADDRESS WEIGHT'`);
    }
  });
  return out;
}
