// The demo cluster's shape: two nodes, four pods, one external client, all
// network namespaces on this machine. Addresses come from the documentation
// ranges (RFC 5737) for the "physical" links, so nothing here can collide
// with or leak to a real network; pod and service ranges are kubeadm's.

/**
 * Namespace (and run folder) prefix. `NETLET_DEMO_PREFIX` lets the benchmark
 * build the same cluster under its own names, so a bench and a demo running
 * at the same time never touch each other's namespaces.
 */
export const DEMO_PREFIX = process.env.NETLET_DEMO_PREFIX || 'netlet-demo';

export interface DemoNode {
  name: string;
  netns: string;
  /** Address on the node-to-node link. */
  ip: string;
  podCIDR: string;
  /** --routes bgp: the node's own AS (Calico's "AS per node" with a top-of-rack router in another AS). */
  asNumber: number;
}

export interface DemoPod {
  name: string;
  node: DemoNode;
  netns: string;
}

export const NODES: DemoNode[] = [
  { name: 'node1', netns: `${DEMO_PREFIX}-node1`, ip: '192.0.2.1', podCIDR: '10.244.1.0/24', asNumber: 65001 },
  { name: 'node2', netns: `${DEMO_PREFIX}-node2`, ip: '192.0.2.2', podCIDR: '10.244.2.0/24', asNumber: 65002 },
];

export const PODS: DemoPod[] = [
  { name: 'web-1', node: NODES[0], netns: `${DEMO_PREFIX}-web-1` },
  { name: 'web-2', node: NODES[0], netns: `${DEMO_PREFIX}-web-2` },
  { name: 'web-3', node: NODES[1], netns: `${DEMO_PREFIX}-web-3` },
  { name: 'client', node: NODES[1], netns: `${DEMO_PREFIX}-client` },
];

/**
 * With a tunnel route mode the nodes sit in two subnets behind a router
 * (node addresses routable, pod addresses not, as between racks): each node
 * keeps its address, now in a /31 of its own (RFC 3021), the router holding
 * the other address of each /31.
 */
export const ROUTER = { netns: `${DEMO_PREFIX}-router`, node1Side: '192.0.2.0', node2Side: '192.0.2.3' };

/**
 * The route modes the demo runs: direct on one shared link, a tunnel across
 * the router, or bgp: the router is a BIRD "top of rack" each node peers with
 * over eBGP, and pod addresses are routed by what it learns (no tunnel, no
 * static route).
 */
export const DEMO_ROUTE_MODES = ['direct', 'vxlan', 'ipip', 'bgp'] as const;
export type DemoRouteMode = (typeof DEMO_ROUTE_MODES)[number];

/** --routes bgp: the top of rack's AS (each node has its own, so no node sees its AS in what the other announces). */
export const TOR_AS = 65000;

/** The router's address on a node's /31: the node's BGP peer. */
export const torSide = (node: DemoNode): string => (node === NODES[0] ? ROUTER.node1Side : ROUTER.node2Side);

/**
 * BIRD's config for the top of rack: one eBGP session per node (next hop
 * self, BIRD's eBGP default, so each node routes the other's pods through
 * the router), and what it learns in the router's kernel.
 */
export function torBirdConfig(): string {
  const sessions = NODES.map(
    (n) => `protocol bgp ${n.name} {
  local ${torSide(n)} as ${TOR_AS};
  neighbor ${n.ip} as ${n.asNumber};
  ipv4 { import all; export all; };
}
`,
  );
  return `router id ${ROUTER.node1Side};
protocol device {}
protocol kernel { ipv4 { export all; }; }
${sessions.join('')}`;
}

/** The "outside world": a namespace linked to node1 only. */
export const EXTERNAL = { netns: `${DEMO_PREFIX}-ext`, ip: '198.51.100.2', nodeSide: '198.51.100.1' };

export const CLUSTER_CIDR = '10.244.0.0/16';
export const DNS_SERVICE_IP = '10.96.0.10';
export const WEB_SERVICE_IP = '10.96.0.100';
export const NODE_PORT = 30080;
export const APP_PORT = 8080;

export const allNamespaces = (): string[] => [...NODES.map((n) => n.netns), ...PODS.map((p) => p.netns), EXTERNAL.netns, ROUTER.netns];

/** Pods that serve the web services (the client pod only asks). */
export const webPods = (): DemoPod[] => PODS.filter((p) => p.name.startsWith('web-'));

const meta = (name: string, ns = 'default') => ({ name, namespace: ns });

/** The manifest folder every agent reads: nodes and services, then slices once pods have addresses. */
export function clusterManifests(podIPs: Map<string, string>): object[] {
  const nodes = NODES.map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  }));
  const web = webPods().map((p) => ({ pod: p, ip: podIPs.get(p.name) })).filter((x): x is { pod: DemoPod; ip: string } => !!x.ip);
  const endpoints = web.map(({ pod, ip }) => ({
    addresses: [ip],
    conditions: { ready: true },
    nodeName: pod.node.name,
    hostname: pod.name,
    targetRef: { kind: 'Pod', namespace: 'default', name: pod.name },
  }));
  const slicePorts = [{ name: 'http', protocol: 'TCP', port: APP_PORT }];
  const slice = (name: string, service: string) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { ...meta(name), labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: slicePorts,
    endpoints,
  });
  const pods = [...podIPs].map(([name, ip]) => {
    const pod = PODS.find((p) => p.name === name)!;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(name),
      spec: { nodeName: pod.node.name },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
    };
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
    ...nodes,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('web'),
      spec: { type: 'ClusterIP', clusterIP: WEB_SERVICE_IP, clusterIPs: [WEB_SERVICE_IP], ports: [{ name: 'http', port: 80, targetPort: APP_PORT, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('web-nodeport'),
      spec: {
        type: 'NodePort',
        clusterIP: '10.96.0.101',
        clusterIPs: ['10.96.0.101'],
        ports: [{ name: 'http', port: 80, targetPort: APP_PORT, nodePort: NODE_PORT, protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('web-headless'),
      spec: { clusterIP: 'None', ports: [{ name: 'http', port: APP_PORT, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('docs'),
      spec: { type: 'ExternalName', externalName: 'docs.example.org' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('kube-dns', 'kube-system'),
      spec: {
        clusterIP: DNS_SERVICE_IP,
        clusterIPs: [DNS_SERVICE_IP],
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { ...meta('kube-dns-nodes', 'kube-system'), labels: { 'kubernetes.io/service-name': 'kube-dns' } },
      addressType: 'IPv4',
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53 },
        { name: 'dns-tcp', protocol: 'TCP', port: 53 },
      ],
      endpoints: NODES.map((n) => ({ addresses: [n.ip], conditions: { ready: true }, nodeName: n.name })),
    },
    ...(web.length ? [slice('web-pods', 'web'), slice('web-nodeport-pods', 'web-nodeport'), slice('web-headless-pods', 'web-headless')] : []),
    ...pods,
  ];
}

/** The proxy modes the demo can run its agents in. */
export const DEMO_PROXY_MODES = ['iptables', 'nftables', 'ipvs'] as const;
export type DemoProxyMode = (typeof DEMO_PROXY_MODES)[number];

/**
 * The agent config for one demo node: kube-proxy defaults plus the demo's
 * cluster CIDR, routes and DNS; with `bgp`, the speaker peering with the top
 * of rack instead of the routes section (bgp.enabled installs what it learns).
 */
export function agentConfig(corefile: string, proxyMode: DemoProxyMode, routeMode: DemoRouteMode = 'direct', bgp?: { node: DemoNode; statusSocket: string }): object {
  const routing =
    routeMode === 'bgp'
      ? bgp && {
          bgp: {
            enabled: true,
            asNumber: bgp.node.asNumber,
            nodeToNodeMesh: false,
            statusSocket: bgp.statusSocket,
            peers: [{ peerIP: torSide(bgp.node), asNumber: TOR_AS }],
          },
        }
      : { routes: { enabled: true, mode: routeMode } };
  if (!routing) throw new Error('agentConfig: --routes bgp needs the node and its status socket');
  return {
    healthzBindAddress: '0.0.0.0:10256',
    metricsBindAddress: '127.0.0.1:10249',
    proxy: { mode: proxyMode, clusterCIDR: CLUSTER_CIDR, [proxyMode]: { minSyncPeriod: '100ms' } },
    dns: { enabled: true, corefile, listen: '0.0.0.0:53' },
    ...routing,
  };
}

/**
 * The demo's Corefile: the cluster zone only, no `forward`, so no query can
 * leave this machine (names outside the zone are refused).
 */
export const DEMO_COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        ttl 5
    }
    prometheus 127.0.0.1:9153
}
`;

/** The CNI network config each node uses: bridge mode, addresses from the node's podCIDR, the MTU of the node's tunnel (no mtu key). */
export function cniConflist(node: DemoNode, dataDir: string): object {
  return {
    cniVersion: '1.0.0',
    name: 'netlet',
    plugins: [
      {
        type: 'netlet-cni',
        mode: 'bridge',
        bridge: 'netlet0',
        nodeName: node.name,
        ipam: { type: 'netlet-ipam', mode: 'podCIDR', datastore: 'local', podCIDRs: [node.podCIDR], dataDir: `${dataDir}/ipam-${node.name}` },
      },
    ],
  };
}
