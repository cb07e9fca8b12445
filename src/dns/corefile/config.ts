import { ConfigError } from '../../base/errors.ts';
import type { CacheLimits } from '../cache/dns-cache.ts';
import type { ForwardOptions } from '../forward/options.ts';
import type { HostsConfig } from '../hosts/hosts-table.ts';
import type { FrontPlugin } from './front-config.ts';

/** CoreDNS `pods` modes (plugin/kubernetes README). */
export type PodsMode = 'disabled' | 'insecure' | 'verified';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Everything the DNS server is configured with. The Corefile parser
 * (src/dns/corefile/) produces one of these; `defaultDnsConfig()` is kubeadm's default
 * Corefile with the plugin's own ttl (5; kubeadm writes ttl 30). Zones are absolute, lowercase,
 * with the trailing dot.
 */
export interface DnsConfig {
  /** UDP and TCP addresses to answer on. */
  listen: ListenAddress[];
  /** Zones the kubernetes index answers for: the cluster zone(s) and reverse zones. The first forward zone names PTR targets. */
  zones: string[];
  /** TTL of the answers, and the SOA minimum (negative-answer TTL, RFC 2308). */
  ttl: number;
  pods: PodsMode;
  /** CoreDNS `endpoint_pod_names`. */
  endpointPodNames: boolean;
  /** Names in these zones that the index does not know go to the forwarder instead of NXDOMAIN. */
  fallthrough: string[];
  /** `forward . ADDR…`: upstream addresses for the forwarder (used by src/dns/forward/). */
  upstreams: string[];
  /** `cache`: seconds (0 disables), for the second-level cache (src/dns/cache/). */
  cache: { enabled: boolean; successTtl: number; denialTtl: number; prefetch: number };
  /** host:port of /health, /ready, /metrics; '' when off. */
  health: string;
  ready: string;
  prometheus: string;
  /** `loadbalance`: rotate A/AAAA answers. */
  loadbalance: boolean;
  /** `log`: one line per query. */
  log: boolean;
  /** `errors`: log SERVFAILs and handler errors. */
  errors: boolean;
  /** `errors { consolidate DURATION REGEXP [LEVEL] }`: matching error lines counted, one line per period. */
  errorsConsolidate?: Array<{ periodMs: number; pattern: string; level: 'warn' | 'error' | 'info' | 'debug' }>;
  /** `log [NAMES…] [FORMAT] { class … }`: which queries are logged; absent: all, common format. */
  logFilter?: { names: string[]; classes: Array<'success' | 'denial' | 'error'>; combined: boolean };
  /** A TCP connection must bring a whole query within this long of going idle, or it is closed (ms). */
  tcpIdleTimeoutMs: number;
  /** Caps on TCP connections per server (src/dns/transport/tcp-admission.ts); absent: its defaults. */
  tcpLimits?: { maxConnections: number; maxPerSource: number };
  /** Encoded answers kept for reuse; 0 disables that cache. */
  answerCacheSize: number;
  /**
   * Threads answering queries, each with its own copy of the zone index and
   * its own SO_REUSEPORT sockets; 1 answers on the main thread only.
   */
  workers: number;
  /** `forward` knobs (src/dns/forward/options.ts); absent: CoreDNS's defaults. */
  forward?: ForwardOptions;
  /** `cache` capacities and TTL bounds (src/dns/cache/dns-cache.ts); absent: CoreDNS's defaults capped by `cache`'s TTLs. */
  cacheLimits?: CacheLimits;
  /** `hosts` (src/dns/hosts/); absent or null: no hosts plugin. */
  hosts?: HostsConfig | null;
  /** `loop`: probe for a forwarding loop at start and halt if one is seen (src/dns/forward/loop-detector.ts). */
  loop?: boolean;
  /** `reload [INTERVAL] [JITTER]`: re-read the Corefile when it changes. */
  reload?: { intervalMs: number; jitterMs: number } | null;
  /** `health { lameduck D }`: keep serving this long after a stop is asked. */
  lameduckMs?: number;
  /** `kubernetes { kubeconfig FILE }`. */
  kubeconfig?: string;
  /** `kubernetes { kubeconfig FILE CONTEXT }`: that context instead of the file's current-context. */
  kubeconfigContext?: string;
  /** `kubernetes { startup_timeout D }`: serve once the zones are synced, or after this long without them; absent: at once. */
  startupTimeoutMs?: number;
  /** `kubernetes { endpoint; tls; apiserver_*; labels }`: how `netlet dns` reaches the API server and what it lists. */
  api?: KubernetesApiAccess;
  /** `kubernetes { multicluster ZONE… }`: these of the kubernetes zones answer clusterset names from ServiceImports (MCS API, KEP-1645). */
  multicluster?: string[];
  /** `kubernetes { namespaces … }`: only these namespaces are exposed; absent: all. */
  namespaces?: string[];
  /** `kubernetes { noendpoints }`: no endpoint names, headless services and endpoint PTRs (NXDOMAIN). */
  noEndpoints?: boolean;
  /** `kubernetes { ignore empty_service }`: ClusterIP services without a ready endpoint are NXDOMAIN. */
  ignoreEmptyService?: boolean;
  /** `kubernetes { namespace_labels SELECTOR }`, the selector text (checked at parse): only matching namespaces are exposed. */
  namespaceLabels?: string;
  /** `bind` set `listen`'s hosts (a second `bind` adds to them). */
  bound?: boolean;
  /** The server block's zones: queries on its addresses go to the block with the longest matching zone. Absent: '.'. */
  serverZones?: string[];
  /** A second and later `forward` in the block, tried in order after the first (`upstreams`/`forward`) does not take the name. */
  extraForwards?: Array<{ upstreams: string[]; options: ForwardOptions }>;
  /** The Corefile's further server blocks (the first block's config carries them), each a whole config of its own. */
  otherBlocks?: DnsConfig[];
  /** Plugins in front of the kubernetes answers and forwarding (src/dns/plugins/), as the Corefile lists them. */
  front?: FrontPlugin[];
  /** Old spellings accepted with their replacement named (`upstream`, `proxy`): logged at start. */
  warnings?: string[];
}

/**
 * The `kubernetes` properties that shape `netlet dns`'s own API access, as
 * CoreDNS's do its client: they are read when the process fills its store,
 * not when it answers.
 */
export interface KubernetesApiAccess {
  /** `endpoint URL`: this API server instead of the in-cluster one. */
  endpoint?: string;
  /** `tls CERT KEY CACERT` (file paths), for `endpoint`. */
  tls?: { cert: string; key: string; ca: string };
  /** `apiserver_qps`: requests per second, on average. */
  qps?: number;
  /** `apiserver_burst`: requests allowed at once above the average. */
  burst?: number;
  /** `apiserver_max_inflight`: requests waiting for their answer at once. */
  maxInflight?: number;
  /** `labels SELECTOR` (checked at parse): only Services, EndpointSlices and Pods it selects are listed and watched. */
  labels?: string;
}

/** This config and the further server blocks it carries. */
export function allBlocks(config: DnsConfig): DnsConfig[] {
  return [config, ...(config.otherBlocks ?? [])];
}

export function defaultDnsConfig(): DnsConfig {
  return {
    listen: [{ host: '0.0.0.0', port: 53 }],
    zones: ['cluster.local.', 'in-addr.arpa.', 'ip6.arpa.'],
    ttl: 5,
    pods: 'insecure',
    endpointPodNames: false,
    fallthrough: ['in-addr.arpa.', 'ip6.arpa.'],
    upstreams: ['/etc/resolv.conf'],
    cache: { enabled: true, successTtl: 30, denialTtl: 30, prefetch: 0 },
    health: ':8080',
    ready: ':8181',
    prometheus: ':9153',
    loadbalance: true,
    log: false,
    errors: true,
    tcpIdleTimeoutMs: 10_000,
    answerCacheSize: 20_000,
    workers: 1,
  };
}

/** "cluster.local" → "cluster.local."; lowercased. */
export function absoluteZone(zone: string): string {
  const z = zone.trim().toLowerCase();
  if (z === '' || z === '.') return '.';
  return z.endsWith('.') ? z : `${z}.`;
}

/** Parses "ADDR:PORT", "[v6]:PORT", ":PORT" or "ADDR" (port 53). */
export function parseListen(text: string, key = 'listen'): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new ConfigError(key, `'${text}' is not ADDR:PORT`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  const port = m[3] === undefined ? 53 : Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(key, `port ${m[3]} is out of range`);
  return { host, port };
}
