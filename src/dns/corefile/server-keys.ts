import { ConfigError } from '../../base/errors.ts';
import { absoluteZone } from './config.ts';
import { isCidr, reverseZonesOf } from './reverse-zones.ts';

// A server block's keys (coredns corefile(5)): `[dns://]ZONE[:PORT]`, where
// ZONE may be a CIDR standing for its reverse zones. Other transports
// (tls://, https://, grpc://, quic://) are refused by name.

export interface ServerKeys {
  zones: string[];
  port: number;
}

const DEFAULT_PORT = 53;

/** Zone arguments as CoreDNS reads them: absolute, lowercase, a CIDR expanded to its reverse zones. */
export function zonesOf(args: string[], where: string): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (isCidr(a)) {
      const zones = reverseZonesOf(a);
      if (typeof zones === 'string') throw new ConfigError('corefile', `${where}: ${zones}`);
      out.push(...zones);
    } else out.push(absoluteZone(a));
  }
  return [...new Set(out)];
}

export function parseServerKeys(keys: string[], where: string): ServerKeys {
  let port: number | null = null;
  const zones: string[] = [];
  for (const key of keys) {
    const scheme = /^([a-z0-9+.-]+):\/\//i.exec(key);
    if (scheme && scheme[1].toLowerCase() !== 'dns') {
      throw new ConfigError('corefile', `${where}: server block key '${key}': ${scheme[1]}:// servers are not supported (plain DNS over UDP and TCP only)`);
    }
    const rest = scheme ? key.slice(scheme[0].length) : key;
    // A CIDR's slash comes before the port: 10.0.0.0/8:53.
    const m = /^(.*?)(?::(\d+))?$/.exec(rest)!;
    const zone = m[1] || '.';
    const keyPort = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
    if (keyPort > 65535) throw new ConfigError('corefile', `${where}: server block key '${key}': port ${keyPort} is out of range`);
    if (port !== null && keyPort !== port) {
      throw new ConfigError('corefile', `${where}: server block keys on ports ${port} and ${keyPort} in one block are not supported; write one block per port`);
    }
    port = keyPort;
    if (zone.includes(':') && !isCidr(zone)) throw new ConfigError('corefile', `${where}: server block key '${key}' is not ZONE[:PORT]`);
    zones.push(...zonesOf([zone], `${where}: server block key '${key}'`));
  }
  return { zones, port: port ?? DEFAULT_PORT };
}
