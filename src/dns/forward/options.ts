/**
 * `tls [CERT KEY CA]` and `tls_servername NAME` for `tls://` upstreams (file
 * paths, read when the forwarder is made). No CA: the system's CAs.
 */
export interface ForwardTls {
  cert?: string;
  key?: string;
  ca?: string;
  /** The name the upstream's certificate must carry; without it, the upstream's IP address. */
  serverName?: string;
}

/** How upstreams are tried (CoreDNS forward `policy`). */
export type ForwardPolicy = 'random' | 'round_robin' | 'sequential';

/**
 * The `forward` plugin's knobs that netlet honours. Defaults are CoreDNS's
 * (plugin/forward README): random policy, 0.5 s health checks, max_fails 2,
 * 2 s read timeout, connections expire after 10 s.
 */
export interface ForwardOptions {
  /** FROM: only names at or under this zone are forwarded ('.' = all). */
  from: string;
  /** `except ZONE…`: names under these are not forwarded by this `forward` (they go on, or get REFUSED). */
  except: string[];
  policy: ForwardPolicy;
  /** Queries in flight above this get REFUSED; 0 = no limit. */
  maxConcurrent: number;
  /** An upstream is down once it failed more than this many times in a row; 0 = never marked down. */
  maxFails: number;
  healthCheckMs: number;
  /** RD bit of the health-check query (`health_check … no_rec` clears it). */
  healthCheckRecursion: boolean;
  /** Name asked by health checks (`health_check … domain FQDN`), '.' by default. */
  healthCheckDomain: string;
  /** Per-attempt read timeout. */
  timeoutMs: number;
  forceTcp: boolean;
  /**
   * Ask upstreams over UDP also for TCP clients (TCP only after a truncated
   * reply). Without it a TCP client's query goes upstream over TCP, as
   * CoreDNS does (plugin/forward README).
   */
  preferUdp: boolean;
  /** An idle upstream socket is closed after this long. */
  expireMs: number;
  /** `failover RCODE…`: a reply with one of these rcodes goes on to the next upstream, as a timeout does. */
  failoverRcodes: number[];
  /** `next RCODE…`: a reply with one of these rcodes goes on to the next `forward` of the block that takes the name. */
  nextRcodes: number[];
  /** `failfast_all_unhealthy_upstreams`: SERVFAIL at once when every upstream is down, instead of trying one anyway. */
  failfastAllUnhealthy: boolean;
  /** TLS settings of `tls://` upstreams (DNS over TLS, RFC 7858); null without `tls`/`tls_servername`. */
  tls: ForwardTls | null;
}

export function defaultForwardOptions(): ForwardOptions {
  return {
    from: '.',
    except: [],
    policy: 'random',
    maxConcurrent: 0,
    maxFails: 2,
    healthCheckMs: 500,
    healthCheckRecursion: true,
    healthCheckDomain: '.',
    timeoutMs: 2000,
    forceTcp: false,
    preferUdp: false,
    expireMs: 10_000,
    failoverRcodes: [],
    nextRcodes: [],
    failfastAllUnhealthy: false,
    tls: null,
  };
}
