import net from 'node:net';

/** "10.0.0.1" → "1.0.0.10.in-addr.arpa."; IPv6 nibbles under ip6.arpa. (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(address: string): string {
  if (net.isIPv4(address)) return `${address.split('.').reverse().join('.')}.in-addr.arpa.`;
  const sl = new net.SocketAddress({ address, family: 'ipv6' });
  // Expand "::" to the full 32 nibbles.
  const halves = sl.address.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  const nibbles = groups.map((g) => g.padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa.`;
}
