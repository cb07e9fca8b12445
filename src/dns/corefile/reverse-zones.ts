import { isIPv4, isIPv6 } from 'node:net';

// A CIDR given where CoreDNS expects a zone (server block keys, kubernetes
// zone arguments) stands for the reverse zones that cover it, as CoreDNS's
// plugin.Host normalization does: a prefix not on a label boundary (8 bits
// for in-addr.arpa, 4 for ip6.arpa) is split into the zones one label
// longer, so 10.96.0.0/12 is 96.10.in-addr.arpa. … 111.10.in-addr.arpa.

export function isCidr(text: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  return m !== null && (isIPv4(m[1]) || isIPv6(m[1]));
}

/** The reverse zones covering `cidr`, or an error message. */
export function reverseZonesOf(cidr: string): string[] | string {
  const [ip, lengthText] = cidr.split('/');
  const v4 = isIPv4(ip);
  const bits = v4 ? 32 : 128;
  const length = Number(lengthText);
  if (!Number.isInteger(length) || length > bits) return `'${cidr}': prefix length out of range`;
  const step = v4 ? 8 : 4;
  const rounded = Math.ceil(length / step) * step;
  // At most 2^7 (IPv4) or 2^3 (IPv6) zones: the prefix is at most one label short.
  const count = 2 ** (rounded - length);
  const base = addressBits(ip, bits) & ~((1n << BigInt(bits - length)) - 1n);
  const labels = rounded / step;
  const out: string[] = [];
  for (let i = 0n; i < BigInt(count); i++) {
    const network = base | (i << BigInt(bits - rounded));
    // The labels the prefix fixes, most significant last (RFC 1035 §3.5, RFC 3596 §2.5).
    const fixed: string[] = [];
    for (let l = 0; l < labels; l++) {
      const shift = BigInt(bits - (l + 1) * step);
      const value = (network >> shift) & ((1n << BigInt(step)) - 1n);
      fixed.unshift(v4 ? String(value) : value.toString(16));
    }
    out.push([...fixed, v4 ? 'in-addr.arpa.' : 'ip6.arpa.'].join('.'));
  }
  return out;
}

function addressBits(ip: string, bits: number): bigint {
  if (bits === 32) return ip.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
  // Expand "::" to the zero groups it stands for (an embedded IPv4 tail is not expected in a CIDR zone).
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}
