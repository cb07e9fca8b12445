import { isIPv4, isIPv6 } from 'node:net';

// Reverse-lookup names: RFC 1035 §3.5 (in-addr.arpa) and RFC 3596 §2.5 (ip6.arpa).

/** The address a full reverse name stands for, in the form the store uses ("10.0.0.1", "fd00::1"); null otherwise. */
export function addressFromReverseName(name: string): string | null {
  if (name.endsWith('.in-addr.arpa.')) {
    const parts = name.slice(0, -'.in-addr.arpa.'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p))) return null;
    const ip = parts.reverse().join('.');
    return isIPv4(ip) ? ip : null;
  }
  if (name.endsWith('.ip6.arpa.')) {
    const nibbles = name.slice(0, -'.ip6.arpa.'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return null;
    const hex = nibbles.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4));
    return canonicalIPv6(groups.join(':'));
  }
  return null;
}

/** RFC 5952 text form, so reverse lookups match the addresses the API gives. */
export function canonicalIPv6(address: string): string | null {
  if (!isIPv6(address)) return null;
  // URL's host parser prints IPv6 in RFC 5952 form.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa.`;
  const full = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const groups = full.split('::');
  const head = groups[0] ? groups[0].split(':') : [];
  const tail = groups.length > 1 && groups[1] ? groups[1].split(':') : [];
  const all = groups.length > 1 ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head;
  const hex = all.map((g) => g.padStart(4, '0')).join('');
  return `${[...hex].reverse().join('.')}.ip6.arpa.`;
}
