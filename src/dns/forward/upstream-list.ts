import { readFileSync } from 'node:fs';
import net from 'node:net';
import { ConfigError } from '../../base/errors.ts';

export interface UpstreamAddress {
  host: string;
  port: number;
  /** "HOST:PORT" ("[v6]:PORT"), the `to` label of the forward metrics. */
  label: string;
  /** `tls://`: DNS over TLS (RFC 7858), every query on a TLS connection. */
  tls?: boolean;
}

/** CoreDNS caps a forward's upstream list at 15 (plugin/forward README). */
export const MAX_UPSTREAMS = 15;

function address(host: string, port: number): UpstreamAddress {
  return { host, port, label: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}` };
}

/** One TO: "1.2.3.4", "1.2.3.4:5353", "[::1]:53", "dns://1.2.3.4", "tls://1.2.3.4" (port 853); null when it is not an address. */
export function parseUpstreamAddress(text: string): UpstreamAddress | null {
  const tls = text.startsWith('tls://');
  const t = text.startsWith('dns://') || tls ? text.slice(6) : text;
  const withTls = (a: UpstreamAddress): UpstreamAddress => (tls ? { ...a, tls } : a);
  if (net.isIP(t)) return withTls(address(t, tls ? 853 : 53));
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d+)$/.exec(t);
  if (!m) return null;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (!net.isIP(host) || port < 1 || port > 65535) return null;
  return withTls(address(host, port));
}

/** The `nameserver` lines of a resolv.conf (resolv.conf(5)); a scoped "fe80::1%eth0" keeps its scope. */
export function nameserversOf(text: string): UpstreamAddress[] {
  const out: UpstreamAddress[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && net.isIP(m[1].split('%')[0])) out.push(address(m[1], 53));
  }
  return out;
}

/**
 * Expands the TO list: addresses as given, and every path (anything starting
 * with '/') replaced by its nameservers, as CoreDNS does with
 * `forward . /etc/resolv.conf`. Hostnames are not resolved (CoreDNS 1.12+
 * only): they are rejected by name.
 */
export function resolveUpstreams(to: string[], readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): UpstreamAddress[] {
  const out: UpstreamAddress[] = [];
  for (const item of to) {
    if (item.startsWith('/')) {
      let text: string;
      try {
        text = readFile(item);
      } catch (err) {
        throw new ConfigError('forward', `cannot read ${item}: ${(err as Error).message}`);
      }
      const found = nameserversOf(text);
      if (found.length === 0) throw new ConfigError('forward', `${item} has no nameserver lines`);
      out.push(...found);
      continue;
    }
    if (/^(https|grpc):\/\//.test(item)) throw new ConfigError('forward', `'${item}': only plain DNS and DNS-over-TLS upstreams are supported (no DNS-over-HTTPS/gRPC)`);
    const a = parseUpstreamAddress(item);
    if (!a) throw new ConfigError('forward', `'${item}' is not an IP[:PORT] address or a resolv.conf path`);
    out.push(a);
  }
  if (out.length > MAX_UPSTREAMS) throw new ConfigError('forward', `${out.length} upstreams, at most ${MAX_UPSTREAMS}`);
  return out;
}
