import type { DnsConfig } from './corefile/config.ts';

/**
 * The `server` label of the coredns_* metrics: the server block's address as
 * CoreDNS writes it, "dns://:53" for `.:53`, "dns://:1053" for `.:1053`,
 * "dns://10.0.0.10:53" when bound to one address.
 */
export function serverLabel(config: DnsConfig): string {
  const l = config.listen[0];
  const host = !l || l.host === '0.0.0.0' || l.host === '::' ? '' : l.host;
  return `dns://${host.includes(':') ? `[${host}]` : host}:${l?.port ?? 53}`;
}
