// The plugins CoreDNS ships, in the order of its plugin.cfg: the order a
// query meets them in, whatever order a Corefile lists them in. netlet runs
// the ones it supports in this order too; the rest are refused by name, and
// a name not in this list is no CoreDNS plugin at all (an external one, or a typo).
export const COREDNS_PLUGIN_ORDER = [
  'root', 'metadata', 'geoip', 'cancel', 'tls', 'quic', 'timeouts', 'multisocket', 'reload', 'nsid', 'bufsize', 'bind', 'debug',
  'trace', 'ready', 'health', 'pprof', 'prometheus', 'errors', 'log', 'dnstap', 'local', 'dns64', 'acl', 'any', 'chaos',
  'loadbalance', 'tsig', 'cache', 'rewrite', 'header', 'dnssec', 'autopath', 'minimal', 'template', 'transfer', 'hosts',
  'route53', 'azure', 'clouddns', 'k8s_external', 'kubernetes', 'file', 'auto', 'secondary', 'etcd', 'loop', 'forward',
  'grpc', 'erratic', 'whoami', 'on', 'sign', 'view',
] as const;

/** Old names CoreDNS no longer ships, with what netlet reads them as. */
export const RENAMED_PLUGINS: Record<string, string> = { proxy: 'forward' };

/** A directive's place in the query's path (plugin.cfg order); -1 when CoreDNS has no such plugin. */
export function pluginRank(name: string): number {
  return (COREDNS_PLUGIN_ORDER as readonly string[]).indexOf(RENAMED_PLUGINS[name] ?? name);
}

/** `names` sorted in the order a query meets them. */
export function inQueryOrder(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => pluginRank(a) - pluginRank(b));
}
