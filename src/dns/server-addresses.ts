import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { ListenAddress } from './corefile/config.ts';

/**
 * The addresses this DNS server answers from, as CoreDNS's kubernetes
 * plugin finds its own (boundIPs): the listen addresses when they name one,
 * else every interface address; loopback left out. The apex NS is built
 * from them (zone/resolve.ts).
 */
export function serverAddresses(listen: readonly ListenAddress[]): string[] {
  const named = listen.map((l) => l.host).filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::');
  const hosts = named.length ? named : Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
  return [...new Set(hosts)].filter((ip) => (isIPv4(ip) && !ip.startsWith('127.')) || (isIPv6(ip) && ip !== '::1'));
}
