import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../base/errors.ts';
import { validate } from '../base/config-schema.ts';
import type { Section } from '../base/config-schema.ts';
import type { RuleBackendOptions } from '../proxier/backend-kind.ts';
import type { IpvsOptions } from '../ipvs/kind.ts';
import type { ProxyOptions } from '../proxier/component.ts';
import type { ConntrackConfig } from '../proxier/conntrack-sysctls.ts';

/** The keys kube-proxy's iptables: and nftables: sections share, with kube-proxy's defaults. */
function ruleBackendFields(syncPeriodDoc: string, fullSyncPeriodDoc: string): Section['fields'] {
  return {
    syncPeriod: { type: 'duration', default: '30s', doc: syncPeriodDoc },
    minSyncPeriod: { type: 'duration', default: '1s', doc: 'Minimum interval between syncs.' },
    fullSyncPeriod: { type: 'duration', default: '1h', doc: fullSyncPeriodDoc },
    masqueradeAll: { type: 'boolean', default: false, doc: 'Same as proxy.masqueradeAll (kube-proxy keeps it here).' },
    masqueradeBit: { type: 'number', default: 14, min: 0, max: 31, doc: 'fwmark bit used to mark packets for masquerading.' },
  };
}

// kube-proxy's defaults (its pkg/proxy/apis/config/v1alpha1/defaults.go) so an
// existing KubeProxyConfiguration keeps its meaning; CoreDNS's for the DNS section.
export const configSchema: Section = {
  doc: 'netlet agent configuration',
  fields: {
    nodeName: { type: 'string', default: '', doc: "This node's name; defaults to the hostname (kube-proxy's hostnameOverride)." },
    kubeconfig: { type: 'string', default: '', doc: 'Path of a kubeconfig; empty means $KUBECONFIG, the in-cluster config, then ~/.kube/config.' },
    manifests: { type: 'string', default: '', doc: 'A folder of Kubernetes manifests to serve from instead of an API server.' },
    snapshot: { type: 'string', default: '', doc: 'File where the last known cluster state is kept, served when the API server is unreachable at start.' },
    logLevel: { type: 'string', default: 'info', oneOf: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], doc: 'Log level.' },
    healthzBindAddress: { type: 'string', default: '0.0.0.0:10256', doc: 'Address of /healthz and /livez (kube-proxy: healthzBindAddress).' },
    metricsBindAddress: { type: 'string', default: '127.0.0.1:10249', doc: 'Address of /metrics (kube-proxy: metricsBindAddress).' },
    proxy: {
      doc: "Service proxy; accepts kube-proxy's KubeProxyConfiguration fields that apply.",
      ignored: [
        'apiVersion', 'kind', 'bindAddress', 'bindAddressHardFail', 'clientConnection', 'configSyncPeriod',
        'detectLocalMode', 'detectLocal', 'enableProfiling', 'featureGates', 'logging', 'oomScoreAdj',
        'portRange', 'showHiddenMetricsForVersion', 'udpIdleTimeout', 'winkernel', 'windowsRunAsService',
        'healthzBindAddress', 'metricsBindAddress', 'hostnameOverride', 'kubeconfig',
      ],
      fields: {
        mode: { type: 'string', default: 'iptables', oneOf: ['iptables', 'nftables', 'ipvs', 'none', ''], doc: 'Proxy backend; "" means iptables, as in kube-proxy. ipvs is deprecated upstream (Kubernetes 1.35): prefer nftables.' },
        clusterCIDR: { type: 'string', default: '', doc: 'Pod CIDR(s), comma separated; traffic to services from outside them is masqueraded.' },
        masqueradeAll: { type: 'boolean', default: false, doc: 'Masquerade all traffic to services.' },
        nodePortAddresses: { type: 'stringList', default: [], doc: 'CIDRs (or "primary") of node addresses that accept NodePorts; empty means all.' },
        iptables: {
          doc: 'iptables backend.',
          ignored: ['localhostNodePorts'],
          fields: ruleBackendFields(
            'How often the canary chain is checked (rules flushed by someone else come back within it) and the longest wait before a failed sync is retried.',
            "Time between periodic full syncs (netlet's own key; kube-proxy fixes it at 1h). Partial syncs apply changes in between.",
          ),
        },
        nftables: {
          doc: "nftables backend (kube-proxy's nftables section).",
          fields: ruleBackendFields(
            'How often the table is checked (a table deleted or rules flushed from it by someone else come back within it) and the longest wait before a failed sync is retried.',
            "Time between periodic full syncs (netlet's own key). Partial syncs apply changes in between.",
          ),
        },
        ipvs: {
          doc: "IPVS backend (kube-proxy's ipvs section; deprecated upstream from Kubernetes 1.35, prefer nftables).",
          fields: {
            syncPeriod: { type: 'duration', default: '30s', doc: 'Full sync period: every virtual server, set and chain compared with the plans; also the integrity poll of the IPVS table.' },
            minSyncPeriod: { type: 'duration', default: '0s', doc: 'Minimum interval between syncs.' },
            scheduler: { type: 'string', default: 'rr', doc: 'IPVS scheduler: rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh (with port hashing, as kube-proxy), fo, ovf, twos; "" means rr.' },
            excludeCIDRs: { type: 'stringList', default: [], doc: 'CIDRs whose IPVS virtual servers netlet never deletes (another load balancer on the node owns them).' },
            strictARP: { type: 'boolean', default: false, doc: 'Set net.ipv4.conf.all.arp_ignore=1 and arp_announce=2, so the node does not answer ARP for kube-ipvs0 addresses (MetalLB needs it).' },
            tcpTimeout: { type: 'duration', default: '0s', doc: 'IPVS TCP established timeout; 0 leaves the kernel value.' },
            tcpFinTimeout: { type: 'duration', default: '0s', doc: 'IPVS TCP FIN_WAIT timeout; 0 leaves the kernel value.' },
            udpTimeout: { type: 'duration', default: '0s', doc: 'IPVS UDP timeout; 0 leaves the kernel value.' },
          },
        },
        conntrack: {
          doc: 'conntrack sysctls set at start.',
          fields: {
            maxPerCore: { type: 'number', default: 32768, min: 0, doc: 'nf_conntrack_max per core; 0 leaves it alone.' },
            min: { type: 'number', default: 131072, min: 0, doc: 'Lower bound of nf_conntrack_max.' },
            tcpEstablishedTimeout: { type: 'duration', default: '24h0m0s', doc: 'nf_conntrack_tcp_timeout_established; 0 leaves it alone.' },
            tcpCloseWaitTimeout: { type: 'duration', default: '1h0m0s', doc: 'nf_conntrack_tcp_timeout_close_wait; 0 leaves it alone.' },
            tcpBeLiberal: { type: 'boolean', default: false, doc: 'nf_conntrack_tcp_be_liberal.' },
            udpTimeout: { type: 'duration', default: '0s', doc: 'nf_conntrack_udp_timeout; 0 leaves it alone.' },
            udpStreamTimeout: { type: 'duration', default: '0s', doc: 'nf_conntrack_udp_timeout_stream; 0 leaves it alone.' },
          },
        },
      },
    },
    dns: {
      doc: 'Cluster DNS (CoreDNS compatible).',
      fields: {
        enabled: { type: 'boolean', default: false, doc: 'Serve cluster DNS from the agent (same as --dns).' },
        corefile: { type: 'string', default: '', doc: 'A Corefile to read; empty means the built-in default.' },
        listen: { type: 'string', default: '0.0.0.0:53', doc: 'UDP and TCP address to answer on.' },
        clusterDomain: { type: 'string', default: 'cluster.local', doc: 'The cluster zone.' },
        lameduck: {
          type: 'duration',
          default: '5s',
          doc: 'On SIGTERM, how long the agent keeps answering DNS after it has stopped writing kernel state (/healthz then answers 503), so that the agent started beside it (a DaemonSet with maxSurge) takes the queries over; as CoreDNS health lameduck.',
        },
      },
    },
    cni: {
      doc: 'The CNI fast path: netlet-cni calls handed to the agent over a local socket.',
      fields: {
        serve: { type: 'boolean', default: false, doc: 'Answer netlet-cni calls (installed with `netlet install-cni --agent-socket`) in the agent.' },
        socket: { type: 'string', default: '/run/netlet/cni.sock', doc: 'The Unix socket the CNI shim connects to.' },
        kubeconfig: {
          type: 'string',
          default: '',
          doc: "Where the agent writes its own API identity as a kubeconfig (mode 0600, rewritten when its token rotates), so that netlet-cni, when the agent is down, claims IPAM blocks as the agent does; netlet-cni reads /run/netlet/kubeconfig (or $NETLET_AGENT_KUBECONFIG). Empty writes none. Not with --manifests.",
        },
      },
    },
    routes: {
      doc: "Routes to other nodes' pod blocks.",
      fields: {
        enabled: { type: 'boolean', default: false, doc: "Install routes to other nodes' blocks or podCIDRs." },
        mode: {
          type: 'string',
          default: 'direct',
          oneOf: ['direct', 'vxlan', 'ipip'],
          doc: 'How other nodes are reached: direct (host-gw: every node on one link), vxlan (device vxlan.netlet / vxlan-v6.netlet) or ipip (tunl0, IPv4 only). Pods created by netlet-cni without an mtu in its config get the tunnel\'s MTU.',
        },
        encapsulation: {
          type: 'string',
          default: 'always',
          oneOf: ['always', 'cross-subnet'],
          doc: "vxlan and ipip: tunnel to every node (always), or only to nodes outside this node's subnet, reaching the others with plain routes (cross-subnet, Calico's CrossSubnet).",
        },
        vxlan: {
          doc: 'The VXLAN device (routes.mode vxlan); defaults as Calico.',
          fields: {
            vni: { type: 'number', default: 4096, min: 1, max: 16777215, doc: 'VXLAN network identifier, the same on every node.' },
            port: { type: 'number', default: 4789, min: 1, max: 65535, doc: 'UDP port the VXLAN packets are sent to and received on, the same on every node.' },
          },
        },
      },
    },
    bgp: {
      doc: "netlet's BGP speaker (Calico's BGPConfiguration and BGPPeer fields).",
      fields: {
        enabled: { type: 'boolean', default: false, doc: "Run the BGP speaker: announce this node's blocks, install the routes peers announce (protocol bgp); needs no routes.* key." },
        asNumber: { type: 'number', default: 64512, min: 1, max: 4294967295, doc: "This node's AS number." },
        routerID: { type: 'string', default: '', doc: "BGP identifier (an IPv4 address); empty means the node's InternalIPv4." },
        listenPort: { type: 'number', default: 179, min: 0, max: 65535, doc: 'TCP port for peers that dial in; 0 means do not listen.' },
        nodeToNodeMesh: { type: 'boolean', default: true, doc: 'Peer with every other node (iBGP full mesh); one side dials, as Calico picks it.' },
        routeReflectorClusterID: { type: 'string', default: '', doc: 'Make this node a route reflector (RFC 4456) with this cluster ID; peers with routeReflectorClient are its clients.' },
        gracefulRestartTime: { type: 'duration', default: '120s', doc: 'Restart time announced in the graceful restart capability (RFC 4724).' },
        statusSocket: { type: 'string', default: '/run/netlet/bgp.sock', doc: '`netlet bgp status` reads the sessions from this Unix socket.' },
        secretsDirectory: { type: 'string', default: '/etc/netlet/bgp-secrets', doc: "A BGPPeer's password secretKeyRef {name, key} is read from <this>/<name>/<key>: mount the Secret there (no Secret read permission needed)." },
        peers: {
          type: 'list',
          default: [],
          doc: 'Peers beside the mesh (routers, route reflectors).',
          items: {
            doc: 'A BGP peer.',
            fields: {
              peerIP: { type: 'string', default: '', doc: "The peer's address (required)." },
              asNumber: { type: 'number', default: 0, min: 0, max: 4294967295, doc: "The peer's AS number (required)." },
              port: { type: 'number', default: 179, min: 1, max: 65535, doc: "The peer's TCP port." },
              password: { type: 'string', default: '', doc: 'TCP MD5 password (RFC 2385, at most 80 bytes) signing the session; empty means none.' },
              holdTime: { type: 'duration', default: '90s', doc: 'Hold time offered in OPEN (the lower of both sides is used).' },
              keepaliveTime: { type: 'duration', default: '0s', doc: 'Time between KEEPALIVEs; 0 means a third of the negotiated hold time.' },
              gracefulRestart: { type: 'boolean', default: true, doc: 'Announce graceful restart, and keep the routes of a restarting peer (RFC 4724).' },
              nextHopSelf: { type: 'boolean', default: false, doc: 'Routes reflected to this peer carry this node as next hop.' },
              sourceAddress: { type: 'string', default: '', doc: 'Local address to dial from; empty lets the kernel choose.' },
              routeReflectorClient: { type: 'boolean', default: false, doc: 'The peer is a client of this route reflector (needs routeReflectorClusterID).' },
              passive: { type: 'boolean', default: false, doc: 'Never dial; wait for the peer to connect.' },
            },
          },
        },
        advertise: {
          doc: "What to announce beyond the node's blocks (Calico's BGPConfiguration service fields).",
          fields: {
            serviceClusterIPs: { type: 'stringList', default: [], doc: 'CIDRs of the Service cluster IP ranges, announced from every node.' },
            serviceExternalIPs: { type: 'stringList', default: [], doc: 'CIDRs of Service external IPs, announced from every node.' },
            serviceLoadBalancerIPs: { type: 'stringList', default: [], doc: 'CIDRs of Service load balancer IPs, announced from every node.' },
          },
        },
      },
    },
  },
};

/** One entry of bgp.peers (durations in ms). */
export interface BgpPeerSection {
  peerIP: string;
  asNumber: number;
  port: number;
  password: string;
  holdTime: number;
  keepaliveTime: number;
  gracefulRestart: boolean;
  nextHopSelf: boolean;
  sourceAddress: string;
  routeReflectorClient: boolean;
  passive: boolean;
}

/** proxy.iptables and proxy.nftables (durations in ms). */
export interface RuleBackendSection {
  syncPeriod: number;
  minSyncPeriod: number;
  fullSyncPeriod: number;
  masqueradeAll: boolean;
  masqueradeBit: number;
}

export interface AgentConfig {
  nodeName: string;
  kubeconfig: string;
  manifests: string;
  snapshot: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  healthzBindAddress: string;
  metricsBindAddress: string;
  proxy: {
    mode: 'iptables' | 'nftables' | 'ipvs' | 'none';
    clusterCIDR: string;
    masqueradeAll: boolean;
    nodePortAddresses: string[];
    /** Durations in milliseconds. */
    iptables: RuleBackendSection;
    nftables: RuleBackendSection;
    ipvs: {
      syncPeriod: number;
      minSyncPeriod: number;
      scheduler: string;
      excludeCIDRs: string[];
      strictARP: boolean;
      tcpTimeout: number;
      tcpFinTimeout: number;
      udpTimeout: number;
    };
    conntrack: ConntrackConfig;
  };
  dns: { enabled: boolean; corefile: string; listen: string; clusterDomain: string; /** ms */ lameduck: number };
  cni: { serve: boolean; socket: string; kubeconfig: string };
  routes: { enabled: boolean; mode: 'direct' | 'vxlan' | 'ipip'; encapsulation: 'always' | 'cross-subnet'; vxlan: { vni: number; port: number } };
  bgp: {
    enabled: boolean;
    asNumber: number;
    routerID: string;
    listenPort: number;
    nodeToNodeMesh: boolean;
    routeReflectorClusterID: string;
    gracefulRestartTime: number;
    statusSocket: string;
    secretsDirectory: string;
    peers: BgpPeerSection[];
    advertise: { serviceClusterIPs: string[]; serviceExternalIPs: string[]; serviceLoadBalancerIPs: string[] };
  };
}

/** Values given on the command line win over the file. */
export interface ConfigOverrides {
  nodeName?: string;
  kubeconfig?: string;
  manifests?: string;
  snapshot?: string;
  proxyMode?: string;
  dns?: boolean;
  logLevel?: string;
}

/**
 * Builds the config from a parsed YAML document. A document whose `kind` is
 * KubeProxyConfiguration is taken as the proxy section, so an existing
 * kube-proxy config file works as it is; its hostnameOverride, bind addresses
 * and clientConnection.kubeconfig map to the agent's own keys.
 */
export function buildConfig(doc: unknown, overrides: ConfigOverrides = {}, warn: (key: string) => void = () => {}): AgentConfig {
  let input = doc ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new ConfigError('', 'the config file must be a YAML mapping');
  const raw = input as Record<string, unknown>;
  if (raw.kind === 'KubeProxyConfiguration') {
    const lifted: Record<string, unknown> = { proxy: raw };
    if (typeof raw.hostnameOverride === 'string' && raw.hostnameOverride) lifted.nodeName = raw.hostnameOverride;
    if (typeof raw.healthzBindAddress === 'string' && raw.healthzBindAddress) lifted.healthzBindAddress = raw.healthzBindAddress;
    if (typeof raw.metricsBindAddress === 'string' && raw.metricsBindAddress) lifted.metricsBindAddress = raw.metricsBindAddress;
    const cc = raw.clientConnection as Record<string, unknown> | undefined;
    if (cc && typeof cc.kubeconfig === 'string' && cc.kubeconfig) lifted.kubeconfig = cc.kubeconfig;
    input = lifted;
  }
  const cfg = validate(configSchema, input, warn) as unknown as AgentConfig;
  if ((cfg.proxy.mode as string) === '') cfg.proxy.mode = 'iptables';
  if (cfg.proxy.ipvs.scheduler === '') cfg.proxy.ipvs.scheduler = 'rr';
  if (cfg.proxy.iptables.masqueradeAll || cfg.proxy.nftables.masqueradeAll) cfg.proxy.masqueradeAll = true;

  if (overrides.nodeName) cfg.nodeName = overrides.nodeName;
  if (overrides.kubeconfig) cfg.kubeconfig = overrides.kubeconfig;
  if (overrides.manifests) cfg.manifests = overrides.manifests;
  if (overrides.snapshot) cfg.snapshot = overrides.snapshot;
  if (overrides.dns) cfg.dns.enabled = true;
  if (overrides.logLevel) cfg.logLevel = validate(configSchema, { logLevel: overrides.logLevel }, warn).logLevel as AgentConfig['logLevel'];
  if (overrides.proxyMode) {
    cfg.proxy.mode = (validate(configSchema, { proxy: { mode: overrides.proxyMode } }, warn).proxy as AgentConfig['proxy']).mode;
  }
  if (!cfg.nodeName) cfg.nodeName = hostname().toLowerCase();
  if (cfg.kubeconfig && cfg.manifests) throw new ConfigError('manifests', 'give either a kubeconfig or a manifest folder, not both');
  return cfg;
}

export async function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}, warn?: (key: string) => void): Promise<AgentConfig> {
  let doc: unknown = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError('', `cannot read ${file}: ${(err as Error).message}`);
    }
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new ConfigError('', `${file} is not valid YAML: ${(err as Error).message}`);
    }
  }
  return buildConfig(doc, overrides, warn);
}

/** What the iptables or nftables backend reads of the config: its own section and conntrack's tcpBeLiberal. */
export function ruleBackendOptions(config: AgentConfig, section: 'iptables' | 'nftables'): RuleBackendOptions {
  const { minSyncPeriod, syncPeriod, fullSyncPeriod, masqueradeBit } = config.proxy[section];
  return { masqueradeBit, tcpBeLiberal: config.proxy.conntrack.tcpBeLiberal, periods: { minSyncPeriod, syncPeriod, fullSyncPeriod } };
}

/** What the IPVS backend reads of the config: its own section, the masquerade bit (kube-proxy reads it from iptables: too) and tcpBeLiberal. */
export function ipvsBackendOptions(config: AgentConfig): IpvsOptions {
  const { ipvs, iptables, conntrack } = config.proxy;
  const { syncPeriod, minSyncPeriod, ...rest } = ipvs;
  return { ...rest, masqueradeBit: iptables.masqueradeBit, tcpBeLiberal: conntrack.tcpBeLiberal, periods: { minSyncPeriod, syncPeriod, fullSyncPeriod: syncPeriod } };
}

/**
 * What the proxier reads of the config: the proxy section. The sync periods
 * are the backend's own (its config section, agent/proxy-backends.ts).
 */
export function proxierOptions(config: AgentConfig): ProxyOptions {
  const { proxy } = config;
  return {
    masqueradeAll: proxy.masqueradeAll,
    clusterCIDR: proxy.clusterCIDR,
    nodePortAddresses: proxy.nodePortAddresses,
    conntrack: proxy.conntrack,
  };
}
